// Runs the locker co-processor's firmware on MicroPython's WebAssembly port, under Node:
//
//   node run.mjs test <lib> <firmware> <tests>   the firmware's unit tests
//   node run.mjs sim <flash> <doors>             a Pico running what <flash> holds
//
// In `sim`, $SERIAL_FD (3 by default) is the master side of a pseudo-terminal whose other
// side the kiosk (or mpremote) opens as it would /dev/ttyACM0; stdin takes the world's
// lines (a door opens, the chip restarts, the loop hangs) and stdout says when a lock
// output changes and when the chip (re)started.
import fs from "node:fs";
import path from "node:path";
import tty from "node:tty";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const HOST = path.dirname(fileURLToPath(import.meta.url));
const [mode, ...args] = process.argv.slice(2);

function mount(mp, from, to) {
  mp.FS.mkdir(to);
  for (const name of fs.readdirSync(from)) {
    const source = path.join(from, name);
    if (fs.statSync(source).isDirectory()) mount(mp, source, `${to}/${name}`);
    else if (name.endsWith(".py")) mp.FS.writeFile(`${to}/${name}`, fs.readFileSync(source));
  }
}

async function runTests(lib, firmware, tests) {
  const mp = await loadMicroPython({
    heapsize: 4 * 1024 * 1024,
    stdout: (line) => process.stdout.write(line + "\n"),
    linebuffer: true,
  });
  mount(mp, lib, "/lib");
  mount(mp, firmware, "/fw");
  mount(mp, HOST, "/host");
  mount(mp, tests, "/tests");
  mp.runPython("import sys\nsys.path[:0] = ['/host', '/fw', '/lib', '/tests']");
  const names = fs.readdirSync(tests).filter((n) => /^test_.*\.py$/.test(n)).sort();
  mp.runPython(`
import sys, unittest
print('MicroPython', sys.version, sys.implementation._machine)
failed = 0
run = 0
for name in ${JSON.stringify(names.map((n) => n.slice(0, -3)))}:
    print('--', name)
    suite = unittest.TestSuite()
    module = __import__(name)
    for attr in dir(module):
        item = getattr(module, attr)
        if isinstance(item, type) and issubclass(item, unittest.TestCase) and item is not unittest.TestCase:
            suite.addTest(item)
    result = unittest.TestRunner().run(suite)
    for text in result.exceptions:
        print(text)
    failed += result.failuresNum + result.errorsNum
    run += result.testsRun
print('firmware tests: %d run, %d failed' % (run, failed))
`);
  process.exitCode = mp.globals.get("failed") > 0 || mp.globals.get("run") === 0 ? 1 : 0;
}

// A Raspberry Pi Pico with MicroPython, as the kiosk and mpremote see it on the pty:
// `flash` (a host folder) is its file system. At every (re)start a fresh interpreter
// runs what a Pico runs at power-up: main.py (the firmware's loop, stepped every
// millisecond) or, without a main.py or with the maintenance flag, the REPL, where
// mpremote copies files. machine.reset() writes the files back and starts again, and the
// next start reads WDT_RESET as its cause, as an RP2040's does (its machine.reset() goes
// through the watchdog); a restart from the world is a power-on.
async function simulatePico(flash, doors) {
  const serial = parseInt(process.env.SERIAL_FD ?? "3", 10);
  const say = (event) => process.stdout.write(JSON.stringify(event) + "\n");
  const reader = new tty.ReadStream(serial);
  const RAW_PASTE = Buffer.from([0x05, 0x41, 0x01]);
  const openDoors = new Set(); // the world's doors outlive the chip's restarts
  let chip = null;

  async function start(cause = 1) {
    const state = { mode: "repl", inbox: [], resetAsked: false, printed: "" };
    // The REPL's output goes down the line; in the firmware's loop the line carries
    // frames only, and what the simulator prints (its events) goes to our stdout.
    const stdout = (text) => {
      if (state.mode === "repl") return fs.writeSync(serial, text);
      state.printed += typeof text === "string" ? text : Buffer.from(text).toString();
      let newline;
      while ((newline = state.printed.indexOf("\n")) >= 0) {
        process.stdout.write(state.printed.slice(0, newline + 1));
        state.printed = state.printed.slice(newline + 1);
      }
    };
    const mp = await loadMicroPython({ heapsize: 4 * 1024 * 1024, stdout, linebuffer: false });
    mount(mp, HOST, "/host");
    copyIn(mp, flash, "");
    mp.registerJsModule("world", {
      read: () => {
        const chunk = Buffer.concat(state.inbox);
        state.inbox = [];
        return chunk.toString("hex");
      },
      write: (hex) => fs.writeSync(serial, Buffer.from(hex, "hex")),
      lock: (index, on) => say({ lock: index + 1, on: !!on }),
      reset: () => {
        state.resetAsked = true;
      },
    });
    mp.runPython("import sys\nsys.path[:0] = ['/host', '/', '/lib']");
    mp.runPython("import machine, world\nmachine.reset_hook = world.reset");
    const hasMain = fs.existsSync(path.join(flash, "main.py"));
    if (hasMain) {
      mp.runPython("import main\nrepl = main.wants_maintenance()\nif repl: main.make_outputs()");
      if (!mp.globals.get("repl")) state.mode = "firmware";
    }
    if (state.mode === "firmware") {
      const open = JSON.stringify([...openDoors]);
      mp.runPython(`import simulated\nsimulated.start(${doors}, ${open}, ${cause})`);
      state.step = mp.pyimport("simulated").step;
      state.world = mp.pyimport("simulated").world_line;
    } else {
      mp.replInit();
    }
    copyOut(mp, "/", flash);
    state.mp = mp;
    say({ ready: true, mode: state.mode });
    return state;
  }

  // While the chip restarts, what arrives on the line is lost, as on a Pico whose USB
  // is re-enumerating.
  async function restart(cause = 1) {
    if (chip.restarting) return;
    chip.restarting = true;
    copyOut(chip.mp, "/", flash);
    chip = await start(cause);
  }
  const WDT_RESET = 3; // machine.WDT_RESET: what an RP2040 reads after machine.reset()

  chip = await start();
  reader.on("data", (data) => {
    if (chip.restarting) return;
    if (chip.mode === "firmware") {
      chip.inbox.push(data);
      return;
    }
    // The WebAssembly port's event-driven REPL mishandles raw-paste mode: decline it, as
    // the protocol allows, and mpremote uses the classic raw REPL a Pico also has.
    let i;
    while ((i = data.indexOf(RAW_PASTE)) >= 0) {
      for (const b of data.subarray(0, i)) chip.mp.replProcessChar(b);
      fs.writeSync(serial, Buffer.from("R\x00"));
      data = data.subarray(i + 3);
    }
    for (const b of data) chip.mp.replProcessChar(b);
    if (chip.resetAsked) restart(WDT_RESET);
  });
  reader.on("error", () => process.exit(0));
  setInterval(() => {
    if (chip.mode === "firmware" && !chip.restarting) {
      chip.step();
      if (chip.resetAsked) restart(WDT_RESET);
    }
  }, 1);
  let pending = "";
  process.stdin.on("data", (data) => {
    pending += data.toString();
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (!line.trim()) continue;
      const event = JSON.parse(line);
      if (event.door) (event.open ? openDoors.add : openDoors.delete).call(openDoors, event.door);
      if (event.restart) restart();
      else if (chip.mode === "firmware") chip.world(line);
    }
  });
  process.stdin.on("end", () => process.exit(0));
}

// The chip's flash: host folder ⇄ the interpreter's root (MEMFS).
const SYSTEM = new Set(["host", "tmp", "dev", "proc", "home"]);

function copyIn(mp, from, to) {
  for (const name of fs.readdirSync(from)) {
    const source = path.join(from, name);
    if (fs.statSync(source).isDirectory()) {
      mp.FS.mkdir(`${to}/${name}`);
      copyIn(mp, source, `${to}/${name}`);
    } else mp.FS.writeFile(`${to}/${name}`, fs.readFileSync(source));
  }
}

function copyOut(mp, from, to) {
  fs.mkdirSync(to, { recursive: true });
  const present = new Set();
  for (const name of mp.FS.readdir(from)) {
    if (name === "." || name === ".." || (from === "/" && SYSTEM.has(name))) continue;
    present.add(name);
    const source = from === "/" ? `/${name}` : `${from}/${name}`;
    const target = path.join(to, name);
    if (mp.FS.isDir(mp.FS.stat(source).mode)) copyOut(mp, source, target);
    else fs.writeFileSync(target, mp.FS.readFile(source));
  }
  for (const name of fs.readdirSync(to)) {
    if (!present.has(name)) fs.rmSync(path.join(to, name), { recursive: true });
  }
}

if (mode === "test") await runTests(...args);
else if (mode === "sim") await simulatePico(args[0], parseInt(args[1], 10));
else {
  console.error("usage: node run.mjs test <lib> <firmware> <tests> | sim <flash> <doors>");
  process.exitCode = 2;
}
