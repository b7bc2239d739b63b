"""Alarm system in IEC 60601-1-8 terms: condition catalog, condition delays, the alarm state machine, the
alarm manager, operator controls, escalation planning and HL7 alarm messages. Pure: time is passed in, nothing
here does I/O, except ``alarms.paging``, the shell that delivers pages (docs/alarms.md)."""
