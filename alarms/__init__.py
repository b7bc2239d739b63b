"""Alarm system in IEC 60601-1-8 terms: condition catalog, condition delays, the alarm state machine and
the alarm manager. Pure: time is passed in, nothing here does I/O."""
