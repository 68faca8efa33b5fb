"""A small CBOR encoder and decoder (RFC 8949) for the Nitro tools and tests: enough for COSE_Sign1
and the attestation payload. The encoder can also write what a strict reader must refuse
(indefinite maps without their break, duplicate keys, ...) through the Raw and IndefiniteMap
wrappers."""
import struct


class Raw(bytes):
    """Bytes written as they are, already CBOR."""


class IndefiniteMap(list):
    """A map written with an indefinite length: a list of (key, value) pairs, duplicates allowed."""

    def __init__(self, pairs, terminated=True):
        super().__init__(pairs)
        self.terminated = terminated


class Map(list):
    """A definite map as a list of (key, value) pairs, so duplicate keys can be written."""


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def head(major, value):
    if value < 24:
        return bytes([major << 5 | value])
    for info, fmt, limit in ((24, ">B", 0xFF), (25, ">H", 0xFFFF), (26, ">I", 0xFFFFFFFF), (27, ">Q", 2**64 - 1)):
        if value <= limit:
            return bytes([major << 5 | info]) + struct.pack(fmt, value)
    raise ValueError("too large")


def encode(value):
    if isinstance(value, Raw):
        return bytes(value)
    if value is None:
        return b"\xf6"
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, (bytes, bytearray)):
        return head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        data = value.encode()
        return head(3, len(data)) + data
    if isinstance(value, Tag):
        return head(6, value.tag) + encode(value.value)
    if isinstance(value, IndefiniteMap):
        body = b"".join(encode(k) + encode(v) for k, v in value)
        return b"\xbf" + body + (b"\xff" if value.terminated else b"")
    if isinstance(value, Map):
        return head(5, len(value)) + b"".join(encode(k) + encode(v) for k, v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(encode(k) + encode(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return head(4, len(value)) + b"".join(encode(v) for v in value)
    raise TypeError(type(value))


def decode(data):
    """The first item of data and the offset after it (maps as dicts, tags as Tag)."""

    def item(pos):
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        pos += 1
        if major == 7:
            simple = {20: False, 21: True, 22: None}
            if info in simple:
                return simple[info], pos
            if info == 31:
                return StopIteration, pos
            raise ValueError("unsupported simple value")
        if info < 24:
            arg = info
        elif info == 31:
            arg = None
        else:
            size = 1 << (info - 24)
            arg = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        if major == 0:
            return arg, pos
        if major == 1:
            return -1 - arg, pos
        if major in (2, 3):
            chunk = data[pos:pos + arg]
            return (bytes(chunk) if major == 2 else chunk.decode()), pos + arg
        if major == 6:
            inner, pos = item(pos)
            return Tag(arg, inner), pos
        out = [] if major == 4 else {}
        count = 0
        while arg is None or count < arg:
            key, pos = item(pos)
            if key is StopIteration:
                break
            if major == 4:
                out.append(key)
            else:
                value, pos = item(pos)
                out[key] = value
            count += 1
        return out, pos

    return item(0)
