"""The example order of each training epoch, exactly as tune's in-process executor draws it.

Why this exists: with the same rows, seed and order, an exported program's first steps see the same batches as
`tune run` in process, so the two executors can be compared step by step (and a run can move between them).
tune shuffles each epoch with a Fisher–Yates permutation driven by its own generator (runtime/data/rng.ts:
xoshiro128** seeded through FNV-1a of the string "<seed>:epoch:<epoch>" and SplitMix32 with MurmurHash3's
finaliser; runtime/exec/batches.ts `epochOrder`), not torch's RandomSampler, so it is re-implemented here in
pure Python (u32 arithmetic masked to 32 bits). `EpochSampler` hands that order to HF Trainer, which calls
`set_epoch(epoch)` before every epoch (0-based, as tune counts them).
"""

M32 = 0xFFFFFFFF


def fmix32(x):
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & M32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & M32
    x ^= x >> 16
    return x


def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & M32
    return h


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    """xoshiro128** 1.0 with tune's seeding (a u32, or a string hashed with FNV-1a)."""

    def __init__(self, seed):
        sm = fnv1a32(seed) if isinstance(seed, str) else int(seed) & M32
        words = []
        for _ in range(4):
            sm = (sm + 0x9E3779B9) & M32
            words.append(fmix32(sm))
        self.s = words

    def next_u32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def next_float(self):
        a = self.next_u32() >> 5
        b = self.next_u32() >> 6
        return (a * 67108864 + b) / 9007199254740992.0


def epoch_order(n, seed, epoch):
    """tune's `epochOrder(n, seed, epoch)`: a seeded Fisher–Yates permutation of range(n)."""
    order = list(range(n))
    rng = Rng("%d:epoch:%d" % (int(seed), int(epoch)))
    for i in range(n - 1, 0, -1):
        j = int(rng.next_float() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


class EpochSampler:
    """A torch Sampler (duck-typed: __iter__, __len__) yielding `epoch_order` for the epoch set last."""

    def __init__(self, n, seed):
        self.n = int(n)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __iter__(self):
        return iter(epoch_order(self.n, self.seed, self.epoch))

    def __len__(self):
        return self.n
