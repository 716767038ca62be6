"""Acknowledge a received message only once everything it caused is durable: accepted -> durable -> ack.

A source registers every message it receives with an :class:`AckLedger` and gets a
:class:`Receipt`. Whatever must be durable before the message may be acknowledged
(the alert events it raised, in the store; later the raw message itself, in the feed
journal) takes a *hold* on the receipt and releases it once written, from the event
loop. The ledger acknowledges messages strictly in arrival order (MQTT 3.1.1, 4.6:
PUBACKs go out in the order the PUBLISHes came in): a message without holds waits
for older ones that still have some.

The ledger knows nothing of MQTT: the source gives each message the function that
acknowledges it. One ledger lives as long as one connection; when the connection
drops, :meth:`AckLedger.close` forgets what is pending (the broker will deliver
those messages again) and late releases of its receipts do nothing, so a message id
of the old connection is never acknowledged on a new one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

Ack = Callable[[], object]


class Receipt:
    """One received message's promise to be acknowledged once nothing holds it back."""

    __slots__ = ("_ack", "_holds", "_ledger")

    def __init__(self, ledger: AckLedger, ack: Ack | None) -> None:
        self._ledger = ledger
        self._ack = ack
        self._holds = 1  # the source's own, released when the message has been handled

    def hold(self) -> Callable[[], None]:
        """Keep the message unacknowledged until the returned function is called (once is enough)."""
        self._holds += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._ledger.release(self)

        return release


class AckLedger:
    """Receipts in arrival order; the oldest ones without holds are acknowledged."""

    def __init__(self) -> None:
        self._pending: deque[Receipt] = deque()
        self._closed = False

    def accept(self, ack: Ack | None) -> Receipt:
        """Register a message (``ack`` sends its acknowledgement; None for QoS 0). Release it when handled."""
        receipt = Receipt(self, ack)
        self._pending.append(receipt)
        return receipt

    def release(self, receipt: Receipt) -> None:
        """Drop one hold; acknowledge every message at the head of the line that has none left."""
        if self._closed:
            return
        receipt._holds -= 1
        if receipt._holds or self._pending[0] is not receipt:
            return
        pending = self._pending
        while pending and not pending[0]._holds:
            ack = pending.popleft()._ack
            if ack is not None:
                ack()

    @property
    def waiting(self) -> int:
        """Messages received but not yet acknowledged."""
        return len(self._pending)

    def close(self) -> None:
        """The connection is gone: nothing pending is acknowledged any more (the broker redelivers it)."""
        self._closed = True
        self._pending.clear()
