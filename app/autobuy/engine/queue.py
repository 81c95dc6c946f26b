"""The checks queue on SQS (``autobuy-checks``, dead-letter ``autobuy-checks-dlq``).

The one client of that queue for both sides: the scheduler ``send``s scheduled checks,
the API ``enqueue``s "check now" requests, the worker ``receive``s and ``delete``s.
Message bodies are :class:`autobuy.contract.CheckMessage`. A message is deleted only
after its check finished; one that keeps failing lands in the DLQ by the queue's
redrive policy.
"""

from __future__ import annotations

from typing import Any

from autobuy.contract import CheckMessage

__all__ = ["SqsChecksQueue"]


class SqsChecksQueue:
    WAIT_SECONDS = 1  # ReceiveMessage long poll (the client's read timeout adds it)

    def __init__(self, client: Any, queue_url: str, *, wait_seconds: int = WAIT_SECONDS,
                 visibility_seconds: int = 120) -> None:
        self._sqs = client
        self._url = queue_url
        self._wait = wait_seconds
        self._visibility = visibility_seconds

    def enqueue(self, user_id: str, item_id: str) -> None:
        """Ask for a check of one item now (the API's ``POST /v1/items/{id}/check``)."""
        self._sqs.send_message(QueueUrl=self._url, MessageBody=CheckMessage(
            item_id, user_id, "manual").encode())

    def send(self, bodies: list[str]) -> None:
        for start in range(0, len(bodies), 10):
            batch = bodies[start:start + 10]
            got = self._sqs.send_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)])
            if got.get("Failed"):
                raise RuntimeError(f"SQS refused {len(got['Failed'])} check messages")

    def receive(self, limit: int = 10) -> list[tuple[str, str]]:
        got = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=min(limit, 10),
                                        WaitTimeSeconds=self._wait,
                                        VisibilityTimeout=self._visibility)
        return [(m["ReceiptHandle"], m["Body"]) for m in got.get("Messages", [])]

    def delete(self, receipt: str) -> None:
        self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=receipt)
