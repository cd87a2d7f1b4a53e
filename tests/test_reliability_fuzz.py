"""Issue 11, "hostile files": ``load_model`` on damaged copies of a real model file.

Every damaged file must either load with the original weights or raise a
``ValueError`` whose message names the file; nothing else (no ``KeyError``,
``zlib.error``, ``MemoryError``...), and no load may use more than 2 GiB of
address space beyond what the process already had.

The loads run in one worker subprocess with ``RLIMIT_AS`` set, so an
allocation the file should not cause fails there (as ``MemoryError``, which
the test reports) instead of swapping the machine. Four kinds of damage:

* random byte flips of the file, biased towards the zip and ``.npy`` headers,
* truncations,
* byte flips inside one stored ``.npy`` member, re-zipped with a valid CRC
  (so they reach the ``.npy`` header parser instead of the zip's checksum;
  these may load different numbers, the other three must not),
* mutated JSON headers (a value replaced by random JSON, a key deleted).

The default ("ci") profile runs 15 cases of each in a few seconds;
``pytest --hypothesis-profile=thorough`` runs 500 of each.
"""
import io
import json
import os
import select
import subprocess
import sys
import zipfile

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import example, given, strategies as st  # noqa: E402

from .test_reliability_files import read_archive, small_model, write_archive  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="RLIMIT_AS and /proc/self/status are Linux features")

HEADROOM = 2 << 30            # address space a load may add: 2 GiB
REPLY_TIMEOUT_S = 60

WORKER = r"""
import json, resource, sys
import numpy as np
import minicnn

def address_space():
    with open("/proc/self/status") as f:
        line = next(l for l in f if l.startswith("VmSize:"))
    return int(line.split()[1]) * 1024

original = minicnn.load_model(sys.argv[1]).get_weights()   # imports and warms up
limit = address_space() + int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    path = json.loads(line)
    try:
        weights = minicnn.load_model(path).get_weights()
    except Exception as exc:              # ValueError expected; MemoryError, KeyError... not
        reply = {"outcome": "ValueError" if isinstance(exc, ValueError) else
                 type(exc).__name__, "names_file": path in str(exc),
                 "message": str(exc)[:500]}
    else:
        same = len(weights) == len(original) and all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(weights, original))
        reply = {"outcome": "loaded", "same_weights": bool(same)}
    print(json.dumps(reply), flush=True)
"""


class Worker:
    """The subprocess that loads files under the address-space limit."""

    def __repr__(self):
        return "<load worker>"

    def __init__(self, original_path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(original_path), str(HEADROOM)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert json.loads(self._reply()) == {"ready": True}

    def _reply(self):
        ready, _, _ = select.select([self.process.stdout], [], [], REPLY_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.process.kill()
            raise AssertionError(f"the load worker hung or died: "
                                 f"{self.process.stderr.read()[-3000:]}")
        return line

    def load(self, path):
        self.process.stdin.write(json.dumps(str(path)) + "\n")
        self.process.stdin.flush()
        return json.loads(self._reply())

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


class Original(dict):
    """The saved model's bytes, header and arrays; a short repr for failure reports."""

    def __repr__(self):
        return f"<model file {self['path']}>"


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The bytes, header and arrays of a real saved model, and a scratch folder."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "original.npz"
    small_model().save(path)
    header, arrays = read_archive(path)
    return Original(path=path, bytes=path.read_bytes(), header=header, arrays=arrays,
                    folder=folder)


@pytest.fixture(scope="module")
def worker(original):
    w = Worker(original["path"])
    yield w
    w.close()


def assert_loads_or_names_the_file(worker, path, original_weights=True):
    """The worker's verdict: a ValueError naming the file, or a load (with the
    original weights unless the damage could legitimately change them)."""
    reply = worker.load(path)
    assert reply["outcome"] in ("loaded", "ValueError"), reply
    if reply["outcome"] == "ValueError":
        assert reply["names_file"], reply
    elif original_weights:
        assert reply["same_weights"], reply


def hot_positions(data):
    """Offsets of the zip structures and the .npy headers: where a flip does most."""
    positions = set()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            start = info.header_offset
            positions.update(range(start, start + 30 + len(info.filename) + 128))
        end_of_data = max(i.header_offset + 30 + len(i.filename) + i.compress_size
                          for i in archive.infolist())
    positions.update(range(end_of_data, len(data)))          # central directory and end record
    return sorted(p for p in positions if p < len(data))


# ---------------------------------------------------------------------------
# the four kinds of damage
# ---------------------------------------------------------------------------
@given(st.data())
def test_random_byte_flips(worker, original, data):
    raw = bytearray(original["bytes"])
    hot = hot_positions(original["bytes"])
    position = st.one_of(st.integers(0, len(raw) - 1), st.sampled_from(hot))
    for offset, xor in data.draw(st.lists(st.tuples(position, st.integers(1, 255)),
                                          min_size=1, max_size=6), label="flips"):
        raw[offset] ^= xor
    path = original["folder"] / "flipped.npz"
    path.write_bytes(bytes(raw))
    assert_loads_or_names_the_file(worker, path)


@given(st.data())
def test_truncations(worker, original, data):
    cut = data.draw(st.integers(0, len(original["bytes"]) - 1), label="cut")
    path = original["folder"] / "truncated.npz"
    path.write_bytes(original["bytes"][:cut])
    assert_loads_or_names_the_file(worker, path)


@given(st.data())
def test_flips_inside_a_stored_array_with_a_valid_checksum(worker, original, data):
    with zipfile.ZipFile(io.BytesIO(original["bytes"])) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = data.draw(st.sampled_from(sorted(members)), label="member")
    raw = bytearray(members[name])
    in_header = st.integers(0, min(len(raw), 128) - 1)       # magic, length, dict literal
    for offset, value in data.draw(st.lists(st.tuples(st.one_of(in_header,
                                                                st.integers(0, len(raw) - 1)),
                                                      st.integers(0, 255)),
                                            min_size=1, max_size=4), label="bytes"):
        raw[offset] = value
    members[name] = bytes(raw)
    path = original["folder"] / "member.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    # A valid checksum over new bytes makes a different but well-formed array
    # possible (new numbers, or '<f4' read as '>f4'), so any weights may load.
    assert_loads_or_names_the_file(worker, path, original_weights=False)


JSON_LEAVES = (st.none() | st.booleans() | st.text(max_size=12)
               | st.integers(-2**64, 2**64)
               | st.sampled_from([0, -1, 1, 3, 4_000_000, 2**31, 2**63, 10**30])
               | st.floats(allow_nan=True, allow_infinity=True))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda children: (
    st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=8)


def paths_of(node, prefix=()):
    """Every path (tuple of keys and indices) into a JSON document."""
    yield prefix
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, child in items:
        yield from paths_of(child, prefix + (key,))


def mutate(header, path, action, value):
    """A copy of ``header`` with the node at ``path`` replaced or deleted."""
    header = json.loads(json.dumps(header))
    if not path:
        return value
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return header


@given(st.data())
@example(data=None)                        # the Dense(4_000_000), run first
def test_mutated_json_headers(worker, original, data):
    header = original["header"]
    if data is None:
        dense = next(p for p in paths_of(header) if p[-1:] == ("units",))
        new = mutate(header, dense, "replace", 4_000_000)
    else:
        where = data.draw(st.sampled_from(list(paths_of(header))), label="path")
        action = data.draw(st.sampled_from(["replace", "delete"] if where else ["replace"]),
                           label="action")
        new = mutate(header, where, action, data.draw(JSON_VALUES, label="value"))
    path = original["folder"] / "header.npz"
    write_archive(path, new, original["arrays"])
    assert_loads_or_names_the_file(worker, path)


def test_the_worker_itself_catches_a_runaway_allocation(original):
    # The limit is real: a 4 GiB array cannot be made under it. (Checks the
    # harness, so a broken limit cannot make the tests above pass vacuously.)
    probe = original["folder"] / "probe.py"
    probe.write_text("import numpy as np\nnp.ones(4 << 30, dtype=np.uint8)\n")
    code = WORKER.split("print(json.dumps({\"ready\"")[0] + \
        f"\ntry:\n    exec(open({str(probe)!r}).read())\nexcept MemoryError:\n" \
        f"    print('refused')\n"
    result = subprocess.run([sys.executable, "-c", code, str(original["path"]),
                             str(HEADROOM)], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "refused", result.stderr[-2000:]
    assert os.path.getsize(original["path"]) < 20_000
