"""Messages that leave the building: the notifications the back office owes customers,
composed in the order's language (compose.py), taken from the queue exactly once by
any number of sender workers (queue.py, sender.py), and sent by e-mail over SMTP
(smtp.py) or by SMS over SMPP or an HTTP webhook (smpp.py, webhook.py), as each shop
configures (settings.py). docs/messages.md says what is sent when."""
