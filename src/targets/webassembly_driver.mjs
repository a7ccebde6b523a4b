// mpcheck's driver for MicroPython's webassembly port under Node.
//
//   node webassembly_driver.mjs MICROPYTHON_MJS HEAPSIZE run    CASE.py [CASE_DIR]
//   node webassembly_driver.mjs MICROPYTHON_MJS HEAPSIZE import MODULE.mpy CASE_DIR [SCRIPT.py]
//   node webassembly_driver.mjs MICROPYTHON_MJS HEAPSIZE exec   CODE
//
// CASE_DIR's .py files are written into the VM's filesystem root; in import mode an
// optional SCRIPT.py (mpcheck's heap wrapper) runs instead of `import MODULE`.
//
// Why our own driver instead of `node micropython.mjs case.py`: that CLI exits 0 when the
// script raises, and its in-memory filesystem holds no files, so a case cannot import
// the helper modules beside it and a .mpy cannot be loaded. Here the case directory's
// .py files (and the .mpy) are written into the VM's filesystem first, and an uncaught
// exception exits 1, and `sys.exit(n)` exits n, like the unix port.
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";

const [mjs, heapsize, mode, arg, caseDir, script] = process.argv.slice(2);
const { loadMicroPython } = await import(pathToFileURL(mjs).href);
// Output past MPCHECK_OUTPUT_CAP bytes (stdout and stderr together) is dropped here, as
// mpcheck would drop it: Node queues pipe writes in memory while the VM runs, so a case
// printing 200 MB would otherwise make Node hold gigabytes. One byte past the cap is
// still written, so mpcheck sees (and reports) the truncation.
const cap = Number(process.env.MPCHECK_OUTPUT_CAP ?? Infinity);
let written = 0;
const write = (stream) => (data) => {
  if (written > cap) return;
  const room = cap + 1 - written;
  const chunk = data.length > room ? data.slice(0, room) : data;
  written += chunk.length;
  stream.write(chunk);
};
const mp = await loadMicroPython({
  heapsize: parseInt(heapsize, 10),
  stdout: write(process.stdout),
  stderr: write(process.stderr),
  linebuffer: false,
});

function copyModules(dir) {
  for (const name of readdirSync(dir)) {
    if (name.endsWith(".py")) mp.FS.writeFile("/" + name, readFileSync(join(dir, name)));
  }
}

let code;
// The driver's own top frame (`File "<stdin>", line 1`), dropped from tracebacks so they
// read as the unix port's: the case's file name and its own frames only.
let ownFrame = false;
if (mode === "run") {
  const dir = caseDir || join(arg, "..");
  copyModules(dir);
  const name = basename(arg);
  if (readdirSync(dir).includes(name) && name.endsWith(".py") && !name.startsWith("_mpcheck")) {
    // Compiled under its file name, as the unix port names it in tracebacks.
    code = `exec(compile(open(${JSON.stringify("/" + name)}).read(), ${JSON.stringify(name)}, "exec"))\n`;
    ownFrame = true;
  } else {
    code = readFileSync(arg, "utf8");
  }
} else if (mode === "import") {
  copyModules(caseDir);
  const name = basename(arg, ".mpy");
  mp.FS.writeFile("/" + name + ".mpy", readFileSync(arg));
  // A module of the same name beside the case must not shadow the .mpy.
  try { mp.FS.unlink("/" + name + ".py"); } catch {}
  code = script ? readFileSync(script, "utf8") : "import " + name + "\n";
  ownFrame = !script;
} else if (mode === "exec") {
  code = arg + "\n";
} else {
  process.stderr.write(`webassembly_driver: unknown mode ${mode}\n`);
  process.exit(64);
}
mp.FS.chdir("/");

try {
  mp.runPython(code);
} catch (error) {
  if (error.name !== "PythonError") throw error;
  if (error.type === "SystemExit") {
    process.exitCode = systemExitCode(error.message);
  } else {
    process.stderr.write(ownFrame ? withoutOwnFrame(error.message) : error.message);
    process.exitCode = 1;
  }
}

// The exit status the unix port gives for an uncaught SystemExit: None (or no argument)
// is 0, an int is its value & 255, anything else is 1. The exception's value is only
// seen as the text of its traceback's last line, `SystemExit: <str(value)>`.
function systemExitCode(traceback) {
  const lines = traceback.trimEnd().split("\n");
  const value = lines[lines.length - 1].replace(/^SystemExit:? ?/, "").trim();
  if (value === "" || value === "None" || value === "False") return 0;
  if (value === "True") return 1;
  if (/^-?\d+$/.test(value)) return Number(BigInt.asUintN(8, BigInt(value)));
  return 1;
}

function withoutOwnFrame(traceback) {
  const lines = traceback.split("\n");
  if (lines[0] === "Traceback (most recent call last):" && lines[1] === '  File "<stdin>", line 1, in <module>') {
    lines.splice(1, 1);
  }
  return lines.join("\n");
}
