//! The bytecode "target": compiles a case with mpy-cross, decodes the `.mpy` with our own
//! reader and prints the disassembly, its line markers quoting the case's source. Its
//! output is compared with `golden/<group>/<name>.bytecode`, whose first line names the
//! compiler and flags.

use std::sync::Arc;
use std::time::Instant;

use super::{RunRequest, Target};
use crate::model::features::Features;
use crate::model::outcome::{Outcome, Status};
use crate::tools::compile::Compiler;
use crate::tools::toolchain::ToolInfo;

pub struct BytecodeTarget {
    compiler: Arc<Compiler>,
    features: Features,
}

impl BytecodeTarget {
    pub fn new(compiler: Arc<Compiler>) -> BytecodeTarget {
        BytecodeTarget {
            compiler,
            // Native code is machine code, not bytecode to compare.
            features: Features([("native".to_string(), false)].into()),
        }
    }
}

/// The golden's first line: which compiler and flags made it.
pub fn header(compiler: &Compiler) -> String {
    let flags = if compiler.flags.is_empty() {
        "none".to_string()
    } else {
        compiler.flags.join(" ")
    };
    format!("# {}; flags: {flags}\n", compiler.version())
}

impl Target for BytecodeTarget {
    fn tools(&self) -> Vec<ToolInfo> {
        vec![self.compiler.tool_info()]
    }

    fn features(&self) -> &Features {
        &self.features
    }

    fn compiler(&self) -> Option<&Arc<Compiler>> {
        Some(&self.compiler)
    }

    fn capabilities(&self) -> super::Capabilities {
        super::Capabilities {
            produces: super::Produces::Disassembly,
            measures_heap: false,
            lossy_link: false,
        }
    }

    fn run(&self, request: &RunRequest) -> Outcome {
        let start = Instant::now();
        let mpy = match self.compiler.compile(request.case) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(message)) => {
                return Outcome::new(
                    Vec::new(),
                    false,
                    Status::Rejected(message),
                    start.elapsed(),
                );
            }
            Err(e) => return Outcome::not_started(e.to_string(), start.elapsed()),
        };
        let text = match crate::mpy::read(&mpy) {
            Ok(file) => crate::mpy::disassemble_with_source(&file, &request.case.source),
            Err(e) => {
                return Outcome::not_started(
                    format!("our .mpy reader rejected mpy-cross's output: {e}"),
                    start.elapsed(),
                );
            }
        };
        let output = header(&self.compiler) + &text;
        Outcome::new(
            output.into_bytes(),
            false,
            Status::Exited(0),
            start.elapsed(),
        )
    }
}
