"""Simulated bedside monitors: scenarios, synthetic ECG/pleth, contract messages, and an MQTT publisher.

Pure core (no I/O): ``scenarios``, ``ward``, ``waveforms`` (``beats``, ``ecg``, ``pleth``, ``artifacts``),
``device``, ``messages``, ``bed``. Shell: ``publisher.run_ward`` (aiomqtt). See docs/simulators.md.
"""

__all__: list[str] = []
