// Runs the locker co-processor's firmware on MicroPython's WebAssembly port, under Node:
//
//   node run.mjs test <lib> <firmware> <host> <tests>   the firmware's unit tests
//   node run.mjs sim <lib> <firmware> <host> <doors>    the firmware itself, on $SERIAL_FD
//
// In `sim`, $SERIAL_FD (3 by default) is the master side of a pseudo-terminal whose other side the kiosk
// opens as it would /dev/ttyACM0; stdin takes the world's lines (a door opens, the chip
// restarts, the loop hangs) and stdout says when a lock output changes.
import fs from "node:fs";
import path from "node:path";
import tty from "node:tty";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [mode, lib, firmware, host, extra] = process.argv.slice(2);

function mount(mp, from, to) {
  mp.FS.mkdir(to);
  for (const name of fs.readdirSync(from)) {
    const source = path.join(from, name);
    if (fs.statSync(source).isDirectory()) mount(mp, source, `${to}/${name}`);
    else if (name.endsWith(".py")) mp.FS.writeFile(`${to}/${name}`, fs.readFileSync(source));
  }
}

const mp = await loadMicroPython({
  heapsize: 4 * 1024 * 1024,
  stdout: (line) => process.stdout.write(line + "\n"),
  linebuffer: true,
});
mount(mp, lib, "/lib");
mount(mp, firmware, "/fw");
mount(mp, host, "/host");
mp.runPython("import sys\nsys.path[:0] = ['/host', '/fw', '/lib']");

if (mode === "test") {
  mount(mp, extra, "/tests");
  const names = fs.readdirSync(extra).filter((n) => /^test_.*\.py$/.test(n)).sort();
  mp.runPython(`
import sys, unittest
sys.path.append('/tests')
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
} else if (mode === "sim") {
  const doors = parseInt(extra, 10);
  const serial = parseInt(process.env.SERIAL_FD ?? "3", 10);
  let inbox = [];
  const say = (event) => process.stdout.write(JSON.stringify(event) + "\n");
  mp.registerJsModule("world", {
    read: () => {
      const chunk = inbox.length ? Buffer.concat(inbox) : Buffer.alloc(0);
      inbox = [];
      return chunk.toString("hex");
    },
    write: (hex) => fs.writeSync(serial, Buffer.from(hex, "hex")),
    lock: (index, on) => say({ lock: index + 1, on: !!on }),
  });
  mp.runPython(`import simulated\nsimulated.start(${doors})`);
  const step = mp.pyimport("simulated").step;
  const reader = new tty.ReadStream(serial);
  reader.on("data", (chunk) => inbox.push(chunk));
  reader.on("error", () => process.exit(0));
  setInterval(() => step(), 1);
  let pending = "";
  process.stdin.on("data", (data) => {
    pending += data.toString();
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim()) mp.pyimport("simulated").world_line(line);
    }
  });
  process.stdin.on("end", () => process.exit(0));
  say({ ready: true });
}
