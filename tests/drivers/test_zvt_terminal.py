"""The ZVT driver against the simulator, over a real pseudo-terminal."""

import threading
import time

import pytest

from kiosk.drivers.base import DeviceState
from kiosk.drivers.terminal.sim_link import DROP_STEPS, Script
from kiosk.drivers.terminal.zvt import Outcome, TerminalLinkLost


def test_approved_payment_with_customer_messages(sim, terminal):
    messages = []
    result = terminal.authorise(4990, messages.append)
    assert result.outcome is Outcome.APPROVED
    assert messages == ["Insert or tap your card", "Enter your PIN", "Waiting for the bank"]
    assert result.amount_minor == 4990
    assert result.card_brand == "VISA" and result.card_last4 == "4242"
    assert result.receipt_number == 1
    assert sim.money_taken_minor == 4990
    assert terminal.status_stream.latest.state is DeviceState.READY


def test_declined_payment_keeps_the_code(sim, terminal):
    sim.push(Script(outcome="decline", decline_code=0x51))
    result = terminal.authorise(1000)
    assert result.outcome is Outcome.DECLINED and result.result_code == 0x51
    assert "insufficient funds" in result.message
    assert sim.money_taken_minor == 0


def test_customer_cancels(sim, terminal):
    sim.push(Script(outcome="cancel"))
    result = terminal.authorise(1000)
    assert result.outcome is Outcome.CANCELLED and sim.money_taken_minor == 0


def test_abort_when_the_customer_walks_away(sim, terminal):
    sim.push(Script(outcome="hang", statuses=(0x0A,)))
    timer = threading.Timer(0.3, terminal.abort)
    timer.start()
    result = terminal.authorise(1000)
    timer.join()
    assert result.outcome is Outcome.CANCELLED and sim.money_taken_minor == 0


def test_slow_intermediate_statuses_rearm_the_timeout(sim, terminal):
    # each status comes 0.3 s after the last; the idle time-out is 0.8 s; the whole
    # exchange takes longer than that, so only re-arming lets it finish
    sim.push(Script(statuses=(0x0A, 0x41, 0x04, 0x0E, 0x0E), status_delay_s=0.3))
    started = time.monotonic()
    assert terminal.authorise(500).approved
    assert time.monotonic() - started > 1.2


def test_terminal_that_hangs_is_a_lost_link(sim, terminal):
    sim.push(Script(outcome="hang", statuses=()))
    with pytest.raises(TerminalLinkLost):
        terminal.authorise(500)
    assert terminal.status_stream.latest.state is DeviceState.FAULT


@pytest.mark.parametrize("step", DROP_STEPS)
def test_link_drop_at_every_step_is_resolved_by_asking(sim, terminal, step):
    before = sim.state.receipt_number
    sim.push(Script(drop_at=step))
    with pytest.raises(TerminalLinkLost):
        terminal.authorise(2500)
    sim.reconnect()
    # PA00P015 §2.2.8: a status information the ECR never acknowledged is auto-reversed
    charged = step == "after_status"
    assert sim.money_taken_minor == (2500 if charged else 0)
    assert sim.auto_reversals == (1 if step == "before_status" else 0)
    last = terminal.last_transaction() if sim.state.last_status else None
    moved = last is not None and last.receipt_number != before and last.amount_minor == 2500
    assert moved is charged


def test_nak_storm_is_survived_with_retries(sim, terminal):
    sim.push(Script(nak_frames=2, corrupt_frames=2))
    assert terminal.authorise(700).approved
    assert sim.money_taken_minor == 700


def test_endless_naks_give_up_cleanly(sim, terminal):
    sim.push(Script(nak_frames=100))
    with pytest.raises(TerminalLinkLost, match="did not acknowledge"):
        terminal.authorise(700)
    assert sim.money_taken_minor == 0


def test_reservation_book_and_release(sim, terminal):
    r1 = terminal.reserve(3000)
    assert r1.approved and sim.state.reservations == {1: 3000}
    booked = terminal.book(r1.receipt_number, 2990)
    assert booked.approved and sim.state.reservations == {}
    r2 = terminal.reserve(1500)
    assert terminal.release(r2.receipt_number).approved
    assert sim.state.reservations == {} and sim.money_taken_minor == 2990
    refused = terminal.book(r2.receipt_number, 1500)
    assert refused.outcome is Outcome.REFUSED


def test_status_end_of_day_refund_reversal(sim, terminal):
    assert terminal.status().state is DeviceState.READY
    assert terminal.register().approved
    assert terminal.authorise(1200).approved
    wrong = terminal.authorise(500)
    assert terminal.reverse(wrong.receipt_number).approved
    assert terminal.refund(300).approved
    eod = terminal.end_of_day()
    assert eod.approved and eod.amount_minor == 900
    assert sim.money_taken_minor == 900
    assert terminal.reverse(99).outcome is Outcome.REFUSED


def test_status_of_a_missing_terminal_is_a_fault(tmp_path):
    from kiosk.drivers.terminal.link import SerialLink
    from kiosk.drivers.terminal.zvt import ZvtTerminal

    t = ZvtTerminal(lambda: SerialLink.open(str(tmp_path / "no-such-tty")))
    status = t.status()
    assert status.state is DeviceState.FAULT and "cannot open terminal port" in status.detail


def test_tcp_transport(sim):
    from kiosk.drivers.terminal.link import TcpLink
    from kiosk.drivers.terminal.simulator import TerminalSimulator
    from kiosk.drivers.terminal.zvt import ZvtTerminal

    tcp_sim = TerminalSimulator()
    host, port = tcp_sim.start_tcp()
    try:
        t = ZvtTerminal(lambda: TcpLink.open(host, port))
        assert t.authorise(990).approved and tcp_sim.money_taken_minor == 990
        t.close()
    finally:
        tcp_sim.stop()
