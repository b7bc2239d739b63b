"""Paging: the I/O shell that delivers the pages the escalator plans (``alarms.escalation``).

``config`` reads the one paging config file; ``channel`` is the small protocol every notifier implements;
``webhook``, ``smtp``, ``mqtt`` and ``mllp`` (HL7 ORU^R40) are the channels, one module each; ``dispatcher``
runs the deliveries (bounded queues, retries with backoff, delivery status); ``tokens`` signs the links that
let a pager acknowledge an alarm.
"""
