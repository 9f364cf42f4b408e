"""Process-wide settings the library needs before torch runs its first operation.

oneDNN (torch's CPU kernels) caches one primitive per input shape, up to 1,024 by default. Window
batches meet a new (batch, tokens) shape with almost every batch, so over a long text, a corpus or
a server's lifetime that cache, and the heap fragmented around it, grew the process by hundreds
of MiB (docs/performance.md, "Memory of long texts"). A cap of 32 keeps it flat at no measured
cost in speed. A value the user set in the environment wins.
"""

from __future__ import annotations

import os

ONEDNN_CACHE_CAPACITY = 32

# oneDNN reads it when it builds its first primitive, not when torch is imported
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_CACHE_CAPACITY))
