# Import forms and module-level control flow.
import sys
import micropython as mp
from collections import namedtuple, OrderedDict
from math import *

Point = namedtuple("Point", ("x", "y"))
p = Point(1, 2)
od = OrderedDict()
od["a"] = p.x
if sys.platform:
    print(p, od, sqrt(16), pi > 3, mp is not None)
elif hasattr(sys, "x"):
    pass
del od
