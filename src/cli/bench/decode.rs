//! The `.mpy` reader's speed.

use std::time::Instant;

use crate::util::error::{Result, exit};

/// The .mpy reader's speed: decode + disassemble every version-6 file under `dir`.
pub fn bench_decode(dir: &std::path::Path, repeat: usize) -> Result<i32> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| crate::util::fsutil::walk_error(e, dir))?;
        let p = entry.path();
        if entry.file_type().is_file() && p.extension().is_some_and(|e| e == "mpy") {
            let bytes = std::fs::read(p).map_err(|e| crate::util::error::Error::io(p, e))?;
            // Only files the reader accepts (the corpus also holds a v5 file).
            if crate::mpy::read(&bytes).is_ok() {
                files.push(bytes);
            }
        }
    }
    // Enough rounds for a stable figure: at least ~20,000 files decoded per repetition.
    let rounds = (20_000 / files.len().max(1)).max(1);
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let mut out = 0usize;
        for _ in 0..rounds {
            for f in &files {
                if let Ok(file) = crate::mpy::read(f) {
                    out += crate::mpy::disassemble(&file).len();
                }
            }
        }
        std::hint::black_box(out);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let n = (files.len() * rounds) as f64;
    println!(
        "decode + disassemble: {} files x {rounds} rounds in {best:.3} s on one thread = {:.0} files/s (target >= 5000)",
        files.len(),
        n / best
    );
    Ok(exit::OK)
}
