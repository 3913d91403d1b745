"""A plain Python class for bench/compare's `objects` workload: no custom reduction, so
CPython pickles its instances with object.__reduce_ex__ (the class, NEWOBJ, the __dict__)."""


class Reading:
    def __init__(self, sensor, value, ts, tags):
        self.sensor = sensor
        self.value = value
        self.ts = ts
        self.tags = tags


class Blob:
    """A payload behind a reduction with arguments, `Blob(payload)`: protocol 5 writes the
    payload before the REDUCE that makes the instance."""

    def __init__(self, payload):
        self.payload = payload

    def __reduce__(self):
        return (Blob, (self.payload,))


class Tick:
    """A small class reduced with arguments, for the `mixed` workload's records."""

    def __init__(self, venue, seq):
        self.venue = venue
        self.seq = seq

    def __reduce__(self):
        return (Tick, (self.venue, self.seq))
