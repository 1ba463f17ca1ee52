"""ZVT messages captured from real payment terminals, as test data.

Each is one APDU (class, instruction, length, data) exactly as the terminal sent it,
without the serial framing. Sources:

- bezahl-online/zvt, folder command/testdata, commit
  a6c3f0737a84c3a4ef88d2ba2e85031dbd354d14 (a terminal with ID 29001006 of the shop
  "TEST BEZAHL.ONLINE E.U."; file names below).
- Portalum/Portalum.Zvt, src/Portalum.Zvt.UnitTest/StatusInformationParserTest.cs,
  commit 210e4269f05276846b1242f10a8a7fff5f9a0fd0 (a terminal with ID 28004869; test
  names below).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Capture:
    source: str
    what: str
    hex: str

    @property
    def raw(self) -> bytes:
        return bytes.fromhex(self.hex)


BEZAHL_ONLINE = "bezahl-online/zvt command/testdata"
PORTALUM = "Portalum.Zvt StatusInformationParserTest.cs"

CAPTURES = {
    "status_enquiry_card_inserted": Capture(
        f"{BEZAHL_ONLINE}/1619070661833PT.hex",
        "completion of a status enquiry: terminal status DC, card inserted",
        "060f01dc",
    ),
    "payment_maestro": Capture(
        f"{BEZAHL_ONLINE}/1618593839564PT.hex",
        "status information of an approved Maestro payment (card name with NUL)",
        "040fd42700040000000018800b0001530c1923360d0416170001197022f1f0eeeeeeeeeeeeeee428"
        "1f29290010062a3130303736343939322020202020203b39353835323000003cf0f1f447454e2e4e"
        "522e3a393538353230490978870153880001538a2e8bf0f84d41455354524f0006652410070e4745"
        "4e2e4e522e3a3935383532304307a0000000043060461f4130303030303030303433303630204336"
        "3134323339433930424533413534471f413030303030303030343330363020433631343233394339"
        "304245334135341f1001001f120102",
    ),
    "payment_debit_mastercard": Capture(
        f"{BEZAHL_ONLINE}/data081649050.hex",
        "status information of an approved Debit Mastercard payment",
        "040fdb2700040000000000010b0000220c1649230d0308170001197022f0f8eeeeeeeeeeee572629"
        "290010062a3130303736343939322020202020203b32393136373500003cf0f1f447454e2e4e522e"
        "3a323931363735490978870022880000228a2e8bf1f74465626974204d6173746572636172640006"
        "652410070e47454e2e4e522e3a3239313637354307a0000000041010461f41303030303030303034"
        "313031302035463236304546433544323845343531471f4130303030303030303431303130203546"
        "32363045464335443238453435311f1001001f120102",
    ),
    "declined": Capture(
        f"{BEZAHL_ONLINE}/1618046758827PT.hex",
        "status information of a declined payment, 'Karte abgelehnt'",
        "040f31270529290010063cf0f1f54b6172746520616267656c65686e748a0d06132411070f4b6172"
        "746520616267656c65686e74",
    ),
    "aborted_status": Capture(
        f"{BEZAHL_ONLINE}/1620217578711PT.hex",
        "status information: result 6C, aborted",
        "040f07276c2929001006",
    ),
    "abort": Capture(
        f"{BEZAHL_ONLINE}/1620217579741PT.hex",
        "abort 06 1E with result 6C",
        "061e016c",
    ),
    "registration_completion": Capture(
        f"{BEZAHL_ONLINE}/1620218414428PT.hex",
        "completion of a registration: status byte, TID, currency",
        "060f0a19002929001006490978",
    ),
    "intermediate_please_wait": Capture(
        f"{BEZAHL_ONLINE}/data081621025.hex",
        "intermediate status 0E, please wait",
        "04ff010e",
    ),
    "intermediate_with_text": Capture(
        f"{BEZAHL_ONLINE}/data050730027.hex",
        "intermediate status 0A with a TLV display text",
        "04ff2e0a01062a242807264b6172746520766f7268616c74656e0a65696e737465636b656e2f6475"
        "7263687a696568656e",
    ),
    "merchant_receipt_text_block": Capture(
        f"{BEZAHL_ONLINE}/data051327012.hex",
        "print text block 06 D3: the merchant receipt",
        "06d3ff0e020682020a1f0701012582020209014007122a2a2048c44e444c455242454c4547202a2a"
        "0717544553542042455a41484c2e4f4e4c494e4520452e552e07064e522031323207133636343520"
        "564f52444552484f524e424143480700070009010007012009014007075645524b41554609010007"
        "1830352e30332e3230323120202020202031333a32363a353207185465726d696e616c2d49443a20"
        "2020203239303031303036071856552d4e723a202020202020202020313030373634393932071842"
        "656c65672d4e723a202020202020202030302f30303139071854726163652d4e723a202020202020"
        "202020303030323635090140070a4b4f4e54414b544c4f53070e4d61657374726f2f444d43204154"
        "0901000714202020204465626974204d61737465726361726407134149443a204130303030303030"
        "303431303130071843727970746f3a204343304344374342443945303241324107184e723a20202a"
        "2a2a2a202a2a2a2a202a2a2a2a203537323607185345513a20202020202020202020202020202020"
        "20303031070c452e4d6f6465284729202020090140070742455a41484c54090100070e47454e2e4e"
        "522e3a37393034393807184245545241473a20204555522020202020202020302c30310718202020"
        "2020202020203d3d3d3d3d3d3d3d3d3d3d3d3d3d3d07012009014007000700070009010007012007"
        "0120070120070120090181",
    ),
    "portalum_payment_debit_mastercard": Capture(
        f"{PORTALUM} Parse_PaymentGood1_Successful",
        "status information of an approved Debit Mastercard payment of 20.40",
        "040f772700040000000020400b0004700c2239530d10060e2512170001197022f0f8eeeeeeeeeeee"
        "477129280048692a3130303436313736332020202020203b36313138303400003cf0f1f447454e2e"
        "4e522e3a363131383034490978870470880004708a2e8bf1f74465626974204d6173746572636172"
        "6400",
    ),
    "portalum_abort_by_customer": Capture(
        f"{PORTALUM} Parse_AbortByKey_Successful",
        "status information: result 6C, 'Abbruch durch Kunde'",
        "040f1e276c29280048693cf0f1f941626272756368206475726368204b756e6465",
    ),
    "portalum_contactless_tlv": Capture(
        f"{PORTALUM} Parse_TlvInfos1_Successful",
        "status information with a TLV container (card technology, cardholder authentication)",
        "040f6527000c2313550d10290e999922f0f8eeeeeeeeeeee4771a00129000000068700080b000000"
        "8a068bf1f14d41535445524341524400062e2f081f1201021f100100601b4307a000000004101044"
        "104465626974204d6173746572636172641f2b0410015008",
    ),
}
