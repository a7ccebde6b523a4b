//! probe-rs's chip database: looking a chip up (with suggestions for a misspelt name),
//! its flash regions, and whether an image's segments fit them.

use std::fmt;
use std::ops::Range;

use probe_rs::config::{MemoryRegion, Registry, Target};

use super::image::Image;

/// How many chip names an "unknown chip" error suggests.
const MAX_SUGGESTIONS: usize = 5;
/// Prefixes shorter than this match too many chips to be useful suggestions.
const MIN_PREFIX: usize = 4;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashRegion {
    pub name: String,
    pub range: Range<u64>,
}

impl FlashRegion {
    pub fn size(&self) -> u64 {
        self.range.end - self.range.start
    }
}

impl fmt::Display for FlashRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` ({:#010x}..{:#010x}, {} bytes)",
            self.name,
            self.range.start,
            self.range.end,
            self.size()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub segment: Range<u64>,
    pub region: String,
}

/// Why an image does not fit a chip's memory map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    #[error(
        "segment {:#010x}..{:#010x} ({} bytes) overflows flash region {region} by {overflow} bytes",
        segment.start, segment.end, segment.end - segment.start
    )]
    Overflow {
        segment: Range<u64>,
        region: FlashRegion,
        overflow: u64,
    },
    #[error(
        "segment {:#010x}..{:#010x} lies in ram region `{region}`, which does not keep it across a reset",
        segment.start, segment.end
    )]
    InRam { segment: Range<u64>, region: String },
    #[error(
        "segment {:#010x}..{:#010x} is in no flash region (flash: {})",
        segment.start, segment.end, list_regions(regions)
    )]
    Outside {
        segment: Range<u64>,
        regions: Vec<FlashRegion>,
    },
    /// probe-rs's own loader refused data that our region walk accepted.
    #[error("probe-rs refuses segment at {address:#010x}: {message}")]
    Loader { address: u64, message: String },
}

fn list_regions(regions: &[FlashRegion]) -> String {
    let names: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
    names.join(", ")
}

/// The registry's target for `name`, or the closest names when there is none.
///
/// probe-rs accepts a unique prefix (`nRF52840_xxA` finds `nRF52840_xxAA` with a logged
/// warning); a board file must name the chip in full, so a prefix counts as unknown.
pub fn lookup_chip(registry: &Registry, name: &str) -> Result<Target, Vec<String>> {
    match registry.get_target_by_name(name) {
        Ok(target) if target.name.len() == name.len() => Ok(target),
        _ => Err(closest_chips(registry, name)),
    }
}

/// Chip names like `name`: those it is a prefix of (via `search_chips`, trimming `name`
/// until something matches) and those a few edits away, closest first.
pub fn closest_chips(registry: &Registry, name: &str) -> Vec<String> {
    let all: Vec<&String> = registry
        .families()
        .iter()
        .flat_map(|f| f.variants().iter())
        .flat_map(|chip| chip.package_variants())
        .collect();
    let lower = name.to_ascii_lowercase();
    let mut candidates: Vec<(usize, String)> = Vec::new();

    let mut prefix: &str = name;
    loop {
        let hits = registry.search_chips(prefix);
        if !hits.is_empty() || prefix.len() <= MIN_PREFIX {
            for hit in hits {
                candidates.push((strsim::levenshtein(&lower, &hit.to_ascii_lowercase()), hit));
            }
            break;
        }
        let mut cut = prefix.len() - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix = &prefix[..cut];
    }
    // Within a third of the name's length: close enough to be a typo.
    let limit = (name.len() / 3).max(2);
    for chip in all {
        let d = strsim::levenshtein(&lower, &chip.to_ascii_lowercase());
        if d <= limit {
            candidates.push((d, chip.clone()));
        }
    }
    candidates.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, chip) in candidates {
        if !out.iter().any(|c| c.eq_ignore_ascii_case(&chip)) {
            out.push(chip);
        }
        if out.len() == MAX_SUGGESTIONS {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Does the image fit?

/// The chip's non-volatile regions; aliases (the same flash seen at a second address)
/// are left out.
pub fn flash_regions(target: &Target) -> Vec<FlashRegion> {
    target
        .memory_map
        .iter()
        .filter_map(|region| match region {
            MemoryRegion::Nvm(nvm) if !nvm.is_alias => Some(FlashRegion {
                name: nvm
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("nvm@{:#010x}", nvm.range.start)),
                range: nvm.range.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Places every segment of `image` in the chip's flash, walking across adjacent flash
/// regions, and then asks probe-rs's flash loader to stage the same data (it checks the
/// memory map the way a real download will).
pub fn check_fit(
    target: &Target,
    regions: &[FlashRegion],
    image: &Image,
) -> Result<Vec<Placement>, FitError> {
    let mut placement = Vec::with_capacity(image.segments.len());
    for segment in &image.segments {
        let span = segment.address..segment.end();
        placement.push(Placement {
            segment: span.clone(),
            region: place(target, regions, span)?,
        });
    }
    let mut loader = target.flash_loader();
    for segment in &image.segments {
        loader
            .add_data(segment.address, &segment.data)
            .map_err(|e| FitError::Loader {
                address: segment.address,
                message: e.to_string(),
            })?;
    }
    Ok(placement)
}

/// The name of the flash region `span` starts in, if the whole span is flash.
fn place(target: &Target, regions: &[FlashRegion], span: Range<u64>) -> Result<String, FitError> {
    let containing = |address: u64| regions.iter().find(|r| r.range.contains(&address));
    let Some(first) = containing(span.start) else {
        let ram = target.memory_map.iter().find_map(|r| match r {
            MemoryRegion::Ram(ram) if ram.range.contains(&span.start) => {
                Some(ram.name.clone().unwrap_or_else(|| "ram".into()))
            }
            _ => None,
        });
        return Err(match ram {
            Some(region) => FitError::InRam {
                segment: span,
                region,
            },
            None => FitError::Outside {
                segment: span,
                regions: regions.to_vec(),
            },
        });
    };
    let mut last = first;
    while last.range.end < span.end {
        match containing(last.range.end) {
            Some(next) => last = next,
            None => {
                return Err(FitError::Overflow {
                    overflow: span.end - last.range.end,
                    segment: span,
                    region: last.clone(),
                });
            }
        }
    }
    Ok(first.name.clone())
}
