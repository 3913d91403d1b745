import io, json, pickle, sys, unittest
from test import pickletester

records = []

class Harvest(pickletester.AbstractUnpickleTests, unittest.TestCase):
    _testdata = None
    bad_stack_errors = (pickle.UnpicklingError, IndexError)
    truncated_errors = (pickle.UnpicklingError, EOFError, AttributeError, ValueError, struct_error := __import__('struct').error)
    def loads(self, buf, **kwds):
        rec = {"data": bytes(buf).hex(), "kwds": {k: v for k, v in kwds.items() if isinstance(v, (str, bool))}}
        try:
            obj = pickle.loads(buf, **kwds)
        except Exception as e:
            rec["error"] = type(e).__name__
            records.append(rec)
            raise
        try:
            rec["repr"] = repr(obj)
        except Exception:
            rec["repr"] = None
        records.append(rec)
        return obj

suite = unittest.defaultTestLoader.loadTestsFromTestCase(Harvest)
result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
print(len(records), "inputs;", result.testsRun, "tests;", len(result.failures), "failures;", len(result.errors), "errors", file=sys.stderr)
json.dump(records, sys.stdout)
