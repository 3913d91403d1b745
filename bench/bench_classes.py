"""A plain Python class for bench/compare's `objects` workload: no custom reduction, so
CPython pickles its instances with object.__reduce_ex__ (the class, NEWOBJ, the __dict__)."""


class Reading:
    def __init__(self, sensor, value, ts, tags):
        self.sensor = sensor
        self.value = value
        self.ts = ts
        self.tags = tags
