// An SMPP server for the back office's SMS tests, made of the npm `smpp` package's
// server (farhadi/node-smpp, SMPP 5.0, backward compatible with 3.4). It binds one
// system_id/password, answers submit_sm with a message id, sends a delivery receipt
// (deliver_sm, esm_class 0x04) when one is asked for, and prints one JSON line per PDU
// it received, with the package's own decoding of the text, for the test to read.
//
// node server.mjs SYSTEM_ID PASSWORD [REFUSE]
// REFUSE: "throttle-once" answers the first submit_sm ESME_RTHROTTLED (0x58);
// "invalid-destination" answers every submit_sm ESME_RINVDSTADR (0x0B).
import smpp from "smpp";

const [systemId, password, refuse = ""] = process.argv.slice(2);
let next = 1;
let throttled = false;

function log(entry) {
  process.stdout.write(JSON.stringify(entry) + "\n");
}

const server = smpp.createServer((session) => {
  let bound = false;
  session.on("bind_transceiver", (pdu) => {
    const ok = pdu.system_id === systemId && pdu.password === password;
    log({ pdu: "bind_transceiver", system_id: pdu.system_id, ok });
    if (!ok) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    bound = true;
    session.send(pdu.response());
  });
  session.on("submit_sm", (pdu) => {
    if (!bound) {
      session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      return;
    }
    const sm = pdu.short_message || {};
    const entry = {
      pdu: "submit_sm",
      source_addr: pdu.source_addr,
      source_addr_ton: pdu.source_addr_ton,
      destination_addr: pdu.destination_addr,
      dest_addr_ton: pdu.dest_addr_ton,
      data_coding: pdu.data_coding,
      esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      message: typeof sm === "string" ? sm : sm.message,
      udh: (sm.udh || []).map((b) => Buffer.from(b).toString("hex")),
    };
    if (refuse === "invalid-destination") {
      log({ ...entry, refused: "ESME_RINVDSTADR" });
      session.send(pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
      return;
    }
    if (refuse === "throttle-once" && !throttled) {
      throttled = true;
      log({ ...entry, refused: "ESME_RTHROTTLED" });
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    const id = `M${next++}`;
    log({ ...entry, message_id: id });
    session.send(pdu.response({ message_id: id }));
    if (pdu.registered_delivery & 1) {
      const now = "2612021200";
      session.deliver_sm({
        source_addr: pdu.destination_addr,
        destination_addr: pdu.source_addr,
        esm_class: 0x04,
        short_message: `id:${id} sub:001 dlvrd:001 submit date:${now} done date:${now} stat:DELIVRD err:000 text:`,
      });
    }
  });
  session.on("deliver_sm_resp", () => log({ pdu: "deliver_sm_resp" }));
  session.on("unbind", (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on("enquire_link", (pdu) => session.send(pdu.response()));
  session.on("error", () => {});
});

server.listen(0, "127.0.0.1", () => {
  log({ listening: server.address().port });
});
