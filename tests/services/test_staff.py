"""Staff mode's use cases on the real drivers and simulators: PINs and roles, lockers,
shifts, search and reprint, unlocking claim codes, refunds, the sync queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.domain.billing import PaymentMethod
from kiosk.domain.orders import OrderState
from kiosk.domain.staff import Role, StaffError, StaffMember
from kiosk.drivers.drawer.simulator import DoorBehaviour
from kiosk.services.journeys.identify import Verifier
from kiosk.services.journeys.pickup import Outcome
from kiosk.services.permissions import Forbidden, StaffTaskError
from kiosk.services.staff_mode.staff import StaffService
from tests.services.test_journeys import NOW, kiosk, seed_done_order  # noqa: F401


@pytest.fixture
def staff(kiosk):  # noqa: F811
    kiosk.lockers.door_timeout_s = 3.0
    kiosk.staff.add_member("s1", "Sam", Role.STAFF, "1111", card="STAFF-0001")
    kiosk.staff.add_member("t1", "Tess", Role.TECHNICIAN, "2222")
    kiosk.staff.add_member("m1", "Maud", Role.MANAGER, "3333")
    return kiosk


def member(kiosk, staff_id):  # noqa: F811
    return kiosk.repos.staff.require(staff_id)


def restarted(kiosk, now):  # noqa: F811
    """The staff use cases as a restarted kiosk builds them, at another time."""
    verifier = Verifier(kiosk.repos, kiosk.clock)
    return StaffService(
        kiosk.repos, kiosk.config, kiosk.devices, kiosk.delivery, verifier, lambda: now
    )


def test_pins_are_stored_as_salted_scrypt_hashes(staff):
    sam = member(staff, "s1")
    assert "1111" not in repr(sam) and len(sam.pin_hash) == 64
    again = StaffMember.create("x", "X", Role.STAFF, "1111")
    assert again.pin_salt != sam.pin_salt and again.pin_hash != sam.pin_hash
    assert sam.pin_matches("1111") and not sam.pin_matches("1112")
    with pytest.raises(StaffError, match="4 to 8 digits"):
        StaffMember.create("y", "Y", Role.STAFF, "12a4")
    with pytest.raises(StaffError, match="already someone's"):
        staff.staff.add_member("s2", "Sol", Role.STAFF, "1111")


def test_sign_in_by_pin_or_card_and_five_wrong_pins_lock_it(staff):
    assert staff.staff.sign_in("2222").member.staff_id == "t1"
    assert staff.staff.sign_in("1111", card="STAFF-0001").member.staff_id == "s1"
    assert staff.staff.sign_in("2222", card="STAFF-0001").member is None  # not Sam's PIN
    for left in (3, 2, 1):
        assert staff.staff.sign_in("9999").tries_left == left
    locked = staff.staff.sign_in("9999")
    assert locked.member is None and locked.locked_until == NOW + timedelta(minutes=15)
    # a restart does not lift it, and even the right PIN waits
    assert restarted(staff, NOW + timedelta(minutes=14)).sign_in("3333").member is None
    later = restarted(staff, NOW + timedelta(minutes=15, seconds=1))
    assert later.sign_in("3333").member.staff_id == "m1"


def test_roles_decide_what_each_may_do(staff):
    sam, tess, maud = (member(staff, i) for i in ("s1", "t1", "m1"))
    with pytest.raises(Forbidden):
        staff.refunds.refund(sam, "anything")
    with pytest.raises(Forbidden):
        staff.shifts.open(tess)
    with pytest.raises(Forbidden):
        staff.staff.sync_queue(sam)
    assert staff.staff.sync_queue(tess) == (0, [])
    assert staff.staff.sync_queue(maud) == (0, [])
    assert [c.device for c in staff.staff.device_status(tess)] == [
        "printer",
        "terminal",
        "scanner",
        "lockers",
    ]


def test_load_a_locker_from_the_item_tag_then_empty_it(staff):
    sam = member(staff, "s1")
    _, order = seed_done_order(staff, locker="")  # at the counter
    _, other = seed_done_order(staff, locker="1", n=2)  # locker 1 is taken
    staff.devices.simulators["lockers"].doors.close_after_s = 0.3
    task = staff.lockers.load_locker(sam, order.claim_code.display)
    assert task.done and task.locker == "2", task  # 1 is full, 4 takes drop-offs
    stored = staff.repos.orders.require(order.number)
    assert stored.location == "locker 2"
    (entry,) = [e for e in staff.repos.outbox.next_batch(NOW) if e.kind == "item.located"]
    assert entry.payload["location"] == "locker 2" and entry.payload["author"] == "Sam"
    rows = {r.locker: r for r in staff.lockers.inventory(sam)}
    assert rows["1"].order.number == other.number and rows["2"].order.number == order.number
    assert rows["3"].order is None and rows["1"].customer == "É. Lef…"
    with pytest.raises(StaffTaskError, match="already in locker 2"):
        staff.lockers.load_locker(sam, order.claim_code.value)

    emptied = staff.lockers.empty_locker(sam, "2")
    assert emptied.done and staff.repos.orders.require(order.number).location == "counter"


def test_loading_refuses_what_is_not_ready_and_a_jammed_door_changes_nothing(staff):
    sam = member(staff, "s1")
    with pytest.raises(StaffTaskError, match="not an item tag"):
        staff.lockers.load_locker(sam, "hello")
    _, order = seed_done_order(staff, locker="")
    staff.devices.simulators["lockers"].behaviour["1"] = DoorBehaviour.JAMMED
    task = staff.lockers.load_locker(sam, order.claim_code.display)
    assert not task.done and task.locker == "1"
    assert staff.repos.orders.require(order.number).location == "counter"


def test_close_a_shift_against_the_terminals_end_of_day(staff):
    sam = member(staff, "s1")
    shift = staff.shifts.open(sam)
    with pytest.raises(StaffTaskError, match="already open"):
        staff.shifts.open(sam)
    _, order = seed_done_order(staff)
    assert staff.pickup.pay_by_card(order, staff.pickup.bill(order)).outcome is Outcome.COLLECTED
    closed = staff.shifts.close(sam, lang="en")
    assert closed.shift.shift_id == shift.shift_id and closed.shift.closed_by == "Sam"
    assert [p.method for p in closed.payments] == [PaymentMethod.CARD]
    assert str(closed.terminal_card_total.amount) == "49.90"
    assert closed.card_difference.is_zero()
    printer = staff.devices.simulators["printer"]
    text = printer.render(printer.jobs[-1]).pages[0].text
    assert "End of shift report" in text and "Card terminal end of day" in text
    assert any(e.kind == "shift.closed" for e in staff.repos.outbox.next_batch(NOW))
    assert staff.shifts.current() is None


def test_search_reprint_and_refund_a_card_payment(staff):
    sam, maud = member(staff, "s1"), member(staff, "m1")
    _, order = seed_done_order(staff)
    paid = staff.pickup.pay_by_card(order, staff.pickup.bill(order)).payment
    last4 = paid.card_last4
    assert [p.payment_id for p in staff.staff.search(sam, card_last4=last4)] == [paid.payment_id]
    assert staff.staff.search(sam, claim_code=order.claim_code.display)[0] == paid
    assert staff.staff.search(sam, customer="lefèvre")[0] == paid
    assert staff.staff.search(sam, on=NOW.date())[0] == paid
    assert staff.staff.search(sam, on=(NOW + timedelta(days=1)).date()) == []
    with pytest.raises(StaffTaskError, match="last four"):
        staff.staff.search(sam, card_last4="12")

    assert staff.staff.reprint(sam, paid.payment_id, lang="en").printed
    printer = staff.devices.simulators["printer"]
    assert "COPY" in printer.render(printer.jobs[-1]).pages[0].text

    refund = staff.refunds.refund(maud, paid.payment_id)
    assert refund.how == "reversal" and refund.refund.amount == paid.amount
    assert staff.devices.simulators["terminal"].money_taken_minor == 0
    with pytest.raises(StaffTaskError, match="already refunded"):
        staff.refunds.refund(maud, paid.payment_id)
    with pytest.raises(StaffTaskError, match="a refund has no kiosk receipt"):
        staff.staff.reprint(sam, refund.refund.payment_id)
    assert any(e.kind == "payment.refunded" for e in staff.repos.outbox.next_batch(NOW))


def test_unlock_a_claim_code_after_five_wrong_tries(staff):
    sam = member(staff, "s1")
    _, order = seed_done_order(staff)
    for _ in range(5):
        staff.pickup.verify(order, "0000")
    assert not staff.pickup.verify(order, "5678").ok  # locked
    assert staff.staff.claim_locked_until(order) is not None
    staff.staff.unlock_claim(sam, order.claim_code.display)
    assert staff.pickup.verify(order, "5678").ok


def test_dead_letters_retried_or_discarded_with_a_reason(staff):
    tess = member(staff, "t1")
    outbox = staff.repos.outbox
    first = outbox.enqueue("staff.note", {"number": "x"}, key="k1", now=NOW)
    second = outbox.enqueue("staff.note", {"number": "y"}, key="k2", now=NOW)
    for op_id in (first, second):
        outbox.dead_letter(op_id, "order x unknown", NOW)
    pending, dead = staff.staff.sync_queue(tess)
    assert pending == 0 and {e.op_id for e in dead} == {first, second}
    assert not staff.staff.retry_dead(tess, first).dead
    with pytest.raises(StaffTaskError, match="why"):
        staff.staff.discard_dead(tess, second, "  ")
    staff.staff.discard_dead(tess, second, "order deleted in the back office")
    assert staff.staff.sync_queue(tess) == (1, [])
    (kept,) = staff.repos.store.table("outbox_discarded").all()
    assert kept["op_id"] == second and kept["discarded_by"] == "Tess"


def test_the_recent_log_shows_staff_actions(staff):
    import logging

    logger = logging.getLogger("kiosk")
    level = logger.level
    logger.addHandler(staff.staff.recent_log)
    logger.setLevel(logging.INFO)  # as `kiosk run` sets it
    try:
        staff.staff.sign_in("2222")
    finally:
        logger.removeHandler(staff.staff.recent_log)
        logger.setLevel(level)
    lines = staff.staff.log_lines(member(staff, "t1"))
    assert any("t1 signed in" in line for line in lines)
    assert all(OrderState.DONE.value not in line for line in lines)
