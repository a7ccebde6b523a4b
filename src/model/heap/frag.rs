//! The shape of the free heap after a case: `micropython.mem_info(1)`'s heap map, read
//! into free bytes, the largest free block and the number of free runs, in bytes at the
//! target's own block size (read from the map's line addresses, never assumed).
//!
//! The map prints 64 blocks a line, each line headed by its offset in bytes
//! (`00000400: h=hh..`); two or more free lines are abbreviated (`(3 lines all free)`).
//! A line's offset divided by the number of blocks before it is the bytes per block.

/// Blocks per map line (`DUMP_BYTES_PER_LINE` in py/gc.c, a count of blocks).
const BLOCKS_PER_LINE: u64 = 64;

/// Fragmentation figures read from one heap map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frag {
    /// Free heap in bytes.
    pub free_bytes: i64,
    /// The longest run of free blocks, in bytes: the largest allocation that still fits.
    pub largest_free_bytes: i64,
    /// Maximal runs of free blocks (a run does not cross from one heap area to the next).
    pub free_runs: i64,
    /// The target's GC block size in bytes.
    pub block_bytes: i64,
}

/// 1 − largest free / free total: 0 when the free heap is one block, towards 1 the more
/// it is cut up; `None` when nothing is free.
pub fn index(free_bytes: i64, largest_free_bytes: i64) -> Option<f64> {
    (free_bytes > 0).then(|| 1.0 - largest_free_bytes as f64 / free_bytes as f64)
}

#[derive(Default)]
struct Runs {
    current: u64,
    free: u64,
    largest: u64,
    count: u64,
}

impl Runs {
    fn free(&mut self, n: u64) {
        self.current += n;
        self.free += n;
    }
    fn close(&mut self) {
        if self.current > 0 {
            self.count += 1;
            self.largest = self.largest.max(self.current);
            self.current = 0;
        }
    }
}

/// The figures of one `mem_info(1)` dump; `None` when it holds no map, the block size
/// cannot be read from it, or the map disagrees with the summary lines the same call
/// printed (`GC: … free: N` bytes, `max free sz: N` blocks): figures that cannot be
/// checked against the target's own are not reported.
pub fn parse(dump: &str) -> Option<Frag> {
    let mut runs = Runs::default();
    let mut block: u64 = 0;
    let mut block_bytes: Option<u64> = None;
    let mut summary_free: Option<u64> = None;
    let mut summary_max_free: Option<u64> = None;
    let mut lines_seen = false;
    for line in dump.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("GC: total:") {
            summary_free = field(rest, "free:");
        } else if t.contains("max free sz:") {
            summary_max_free = field(t, "max free sz:");
        } else if t.starts_with("GC memory layout") {
            runs.close();
            block = 0;
        } else if let Some(n) = t
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(" lines all free)"))
        {
            let n: u64 = n.trim().parse().ok()?;
            runs.free(n * BLOCKS_PER_LINE);
            block += n * BLOCKS_PER_LINE;
        } else if let Some((addr, blocks)) = t.split_once(':')
            && !addr.is_empty()
            && addr.chars().all(|c| c.is_ascii_hexdigit())
        {
            let offset = u64::from_str_radix(addr, 16).ok()?;
            if block > 0 {
                if offset % block != 0 {
                    return None;
                }
                let size = offset / block;
                if block_bytes.is_some_and(|b| b != size) {
                    return None;
                }
                block_bytes = Some(size);
            }
            lines_seen = true;
            for c in blocks.trim().chars() {
                if c == '.' {
                    runs.free(1);
                } else {
                    runs.close();
                }
                block += 1;
            }
        }
    }
    runs.close();
    let block_bytes = block_bytes.filter(|_| lines_seen)?;
    if summary_free.is_some_and(|f| f != runs.free * block_bytes)
        || summary_max_free.is_some_and(|m| m != runs.largest)
    {
        return None;
    }
    let bytes = |blocks: u64| i64::try_from(blocks * block_bytes).ok();
    Some(Frag {
        free_bytes: bytes(runs.free)?,
        largest_free_bytes: bytes(runs.largest)?,
        free_runs: i64::try_from(runs.count).ok()?,
        block_bytes: i64::try_from(block_bytes).ok()?,
    })
}

/// The number after `name` in a summary line (`free: 1234,`).
fn field(text: &str, name: &str) -> Option<u64> {
    let rest = &text[text.find(name)? + name.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map as the qemu port prints it (16-byte blocks), three free runs: 2 blocks in
    /// line 0, then 62 + 3 × 64 + 10 joined across the abbreviation, then 50 at the end.
    fn dump(free: u64, max_free: u64) -> String {
        let line0 = format!("h=hh..{}", "h".repeat(58));
        let line1 = format!("hh{}", ".".repeat(62));
        let line5 = format!("{}hhhh{}", ".".repeat(10), ".".repeat(50));
        format!(
            "stack: 508\nGC: total: 8192, used: 1, free: {free}\n No. of 1-blocks: 1, 2-blocks: 1, max blk sz: 2, max free sz: {max_free}\nGC memory layout; from 20001a40:\n00000000: {line0}\n00000400: {line1}\n       (3 lines all free)\n00001400: {line5}\n"
        )
    }

    #[test]
    fn runs_join_across_abbreviated_lines_and_the_block_size_is_read() {
        let free_blocks = 2 + 62 + 3 * 64 + 10 + 50;
        let f = parse(&dump(free_blocks * 16, 264)).unwrap();
        assert_eq!(
            f,
            Frag {
                free_bytes: 316 * 16,
                largest_free_bytes: 264 * 16,
                free_runs: 3,
                block_bytes: 16,
            }
        );
        let i = index(f.free_bytes, f.largest_free_bytes).unwrap();
        assert!((i - (1.0 - 264.0 / 316.0)).abs() < 1e-12);
        assert_eq!(index(0, 0), None);
    }

    #[test]
    fn a_map_that_disagrees_with_the_summary_is_not_reported() {
        assert_eq!(parse(&dump(316 * 16, 263)), None);
        assert_eq!(parse(&dump(316 * 32, 264)), None);
        assert_eq!(parse("GC: total: 8192, used: 1, free: 100\n"), None);
    }
}
