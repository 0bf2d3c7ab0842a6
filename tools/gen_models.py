#!/usr/bin/python3
"""Generates the transformer-encoder model fixtures and their torch reference outputs.

Real checkpoints are too big to commit, so every fixture's weights come from a deterministic PRNG that
tests/embed/model_fixture.cc re-implements bit for bit. Per fixture folder tests/fixtures/models/<name>/:

  weights.json      the recipe: seed, dtype and one entry per tensor (name, dtype, shape, init, scale, offset)
                    plus checksums of the materialized tensor (sum of values, XXH3-128 of its bytes)
  reference.json    {"model", "dtype", "pooling", "normalize", "cases": [{"name",
                    "texts"? (case "texts" only), "input_ids": [[...]], "attention_mask": [[...]],
                    "embeddings": [[...]] (one per row, pooled and L2-normalized if the model normalizes),
                    "last_hidden_state_first_row_first_token": [...]}]}
                    computed in float64 from the stored weights, written as float32 (%.9g round-trips).
  config.json, tokenizer and sentence-transformers files (modules.json, 1_Pooling/, sentence_bert_config.json)
  model.safetensors only for tiny-bert (small), so the C++ materializer can be checked byte for byte

PRNG (identical in C++):
  fnv1a64(s)       = FNV-1a 64 over the UTF-8 bytes of s
  mix64(z)         = splitmix64 finalizer: z ^= z>>30; z *= 0xBF58476D1CE4E5B9; z ^= z>>27;
                     z *= 0x94D049BB133111EB; z ^= z>>31            (all arithmetic mod 2^64)
  tensor seed      s = mix64(model_seed XOR fnv1a64(tensor name))
  element i        x_i = mix64(s + (i + 1) * 0x9E3779B97F4A7C15)    (splitmix64: state += gamma; mix)
  value            v_i = float32(int(x_i >> 40) - 2^23) * float32(scale / 2^23) [+ float32(offset)]
                   = ((x>>40) / 2^24 * 2 - 1) * scale + offset, uniform in [offset-scale, offset+scale).
  scale is a power of two, so the product is exact and the only float32 rounding is the offset add
  (no FMA/contraction pitfalls). "arange" tensors (embeddings.position_ids, I64) hold 0, 1, 2, ...
  F16 = numpy astype(float16) (IEEE round to nearest even); BF16 = the top 16 bits of the F32 value after
  round to nearest even on the low 16 bits. References use the stored (rounded) values.

Modes:
  /usr/bin/python3 tools/gen_models.py                 all committed fixtures (~10 s)
  /usr/bin/python3 tools/gen_models.py --only tiny-bert
  /usr/bin/python3 tools/gen_models.py --bench OUT_DIR  all-MiniLM-L6-v2 shapes, 6 layers, + model.onnx

Deterministic: two runs write identical bytes. Needs Debian's python3-torch (1.13) and numpy; uses
libxxhash (the project's content hash) through ctypes for the per-tensor checksums.
"""

import argparse
import ctypes
import ctypes.util
import json
import math
import os
import shutil
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "models")
SHARED_DATA = os.environ.get("RLM_SHARED_DATA", "/work/shared/data")
MINILM_DIR = os.path.join(SHARED_DATA, "models", "all-MiniLM-L6-v2")

M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15

# ---------------------------------------------------------------------------------------------------------
# PRNG


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def mix64_int(z):
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def mix64(z):
    """Vectorized mix64 on a uint64 array (numpy integer arrays wrap silently)."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_seed(model_seed, name):
    return mix64_int(model_seed ^ fnv1a64(name))


def stream(seed, start, count):
    """x_i for i in [start, start+count)."""
    i = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    return mix64(np.uint64(seed) + i * np.uint64(GAMMA))


def uniform_f32(seed, count, scale, offset):
    assert scale > 0 and math.frexp(scale)[0] == 0.5, "scale must be a power of two: %r" % scale
    out = np.empty(count, dtype=np.float32)
    step = np.float32(scale / (1 << 23))
    chunk = 1 << 20
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        k = (stream(seed, start, n) >> np.uint64(40)).astype(np.int64) - (1 << 23)
        v = k.astype(np.float32) * step
        if offset != 0:
            v = v + np.float32(offset)
        out[start:start + n] = v
    return out


def randint(seed, count, lo, hi):
    """count integers in [lo, hi), for the reference token ids."""
    return [lo + int(x) % (hi - lo) for x in stream(seed, 0, count)]


# ---------------------------------------------------------------------------------------------------------
# dtypes and safetensors


def f32_to_bf16_bits(a):
    u = a.view(np.uint32).astype(np.uint64)
    r = (u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)
    return r.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (b.astype(np.uint32) << np.uint32(16)).view(np.float32)


# The safetensors library (Rust Dtype enum order) lays tensors out by descending dtype, then by name.
DTYPE_RANK = {"BOOL": 0, "U8": 1, "I8": 2, "F8_E5M2": 3, "F8_E4M3": 4, "I16": 5, "U16": 6, "F16": 7,
              "BF16": 8, "I32": 9, "U32": 10, "F32": 11, "F64": 12, "I64": 13, "U64": 14}


def materialize(recipe):
    """Returns {name: (bytes, float64 values)} for every tensor of a recipe."""
    out = {}
    for t in recipe["tensors"]:
        count = int(np.prod(t["shape"]))
        if t["init"] == "arange":
            assert t["dtype"] == "I64"
            vals = np.arange(count, dtype=np.int64)
            out[t["name"]] = (vals.astype("<i8").tobytes(), vals.astype(np.float64))
            continue
        v = uniform_f32(stream_seed(recipe["seed"], t["name"]), count, t["scale"], t["offset"])
        if t["dtype"] == "F32":
            stored, back = v.astype("<f4"), v
        elif t["dtype"] == "F16":
            stored = v.astype("<f2")
            back = stored.astype(np.float32)
        elif t["dtype"] == "BF16":
            stored = f32_to_bf16_bits(v).astype("<u2")
            back = bf16_bits_to_f32(stored)
        else:
            raise ValueError(t["dtype"])
        out[t["name"]] = (stored.tobytes(), back.astype(np.float64).reshape(t["shape"]))
    return out


def safetensors_layout(recipe):
    """Header bytes (length prefix included) and the tensor order, exactly as safetensors' serialize()."""
    order = sorted(recipe["tensors"], key=lambda t: (-DTYPE_RANK[t["dtype"]], t["name"]))
    size = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
    parts = ['"__metadata__":{"format":"pt"}']
    offset = 0
    for t in order:
        n = int(np.prod(t["shape"])) * size[t["dtype"]]
        parts.append('%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}' % (
            json.dumps(t["name"]), t["dtype"], ",".join(str(d) for d in t["shape"]), offset, offset + n))
        offset += n
    header = ("{" + ",".join(parts) + "}").encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    return struct.pack("<Q", len(header)) + header, order


def write_safetensors(path, recipe, tensors):
    header, order = safetensors_layout(recipe)
    with open(path, "wb") as f:
        f.write(header)
        for t in order:
            f.write(tensors[t["name"]][0])


_XXH = None


def xxh3_128_hex(data):
    """The project's ContentHash(data).Hex(): XXH3-128, high 64 bits first."""
    global _XXH
    if _XXH is None:
        class H128(ctypes.Structure):
            _fields_ = [("low64", ctypes.c_uint64), ("high64", ctypes.c_uint64)]
        lib = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
        lib.XXH3_128bits.restype = H128
        lib.XXH3_128bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        _XXH = lib
    h = _XXH.XXH3_128bits(data, len(data))
    return "%016x%016x" % (h.high64, h.low64)


# ---------------------------------------------------------------------------------------------------------
# Recipes


def pow2_at_most(x):
    """Largest power of two <= x."""
    m, e = math.frexp(x)  # x = m * 2^e, m in [0.5, 1)
    return math.ldexp(0.5, e)


def linear_scale(fan_in):
    # Uniform(-s, s) has variance s^2/3; s <= sqrt(3/fan_in) keeps a layer's output variance <= its input's,
    # so attention scores have standard deviation ~0.5-1: attention mixes without collapsing to one token.
    return pow2_at_most(math.sqrt(3.0 / fan_in))


def encoder_tensors(cfg, prefix="", position_ids=True, extra=()):
    h, inter = cfg["hidden_size"], cfg["intermediate_size"]
    ts = []

    def add(name, shape, scale, offset=0.0, init="uniform"):
        ts.append({"name": prefix + name, "shape": list(shape), "init": init, "scale": scale,
                   "offset": offset})

    def layer_norm(name):
        add(name + ".weight", [h], 0.125, 1.0)
        add(name + ".bias", [h], 0.0625)

    def linear(name, out_f, in_f, gain=1):
        add(name + ".weight", [out_f, in_f], gain * linear_scale(in_f))
        add(name + ".bias", [out_f], 0.0625)

    add("embeddings.word_embeddings.weight", [cfg["vocab_size"], h], 0.5)
    add("embeddings.position_embeddings.weight", [cfg["max_position_embeddings"], h], 0.25)
    add("embeddings.token_type_embeddings.weight", [cfg["type_vocab_size"], h], 0.25)
    layer_norm("embeddings.LayerNorm")
    if position_ids:
        ts.append({"name": prefix + "embeddings.position_ids", "shape": [1, cfg["max_position_embeddings"]],
                   "init": "arange", "dtype": "I64"})
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        # Query and key at twice the scale: the largest attention weight of a row averages ~0.35 on 30
        # tokens (0.09 at scale 1), so attention is selective but still mixes several tokens.
        linear(p + "attention.self.query", h, h, 2)
        linear(p + "attention.self.key", h, h, 2)
        linear(p + "attention.self.value", h, h)
        linear(p + "attention.output.dense", h, h)
        layer_norm(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", inter, h)
        linear(p + "output.dense", h, inter)
        layer_norm(p + "output.LayerNorm")
    linear("pooler.dense", h, h)
    for name, shape in extra:  # e.g. a pre-training head a loader must ignore
        ts.append({"name": name, "shape": list(shape), "init": "uniform", "scale": 0.0625, "offset": 0.0})
    return ts


def make_recipe(seed, dtype, tensors):
    for t in tensors:
        t.setdefault("dtype", dtype)
    tensors = sorted(tensors, key=lambda t: t["name"])
    return {"seed": seed, "dtype": dtype, "tensors": tensors}


def recipe_json(recipe, tensors):
    """weights.json: the recipe plus per-tensor checksums of the materialized values."""
    out = {"format": "rlm-weights-recipe-1", "seed": recipe["seed"], "dtype": recipe["dtype"],
           "prng": "splitmix64; see tools/gen_models.py", "tensors": []}
    for t in recipe["tensors"]:
        data, values = tensors[t["name"]]
        e = {"name": t["name"], "dtype": t["dtype"], "shape": t["shape"], "init": t["init"]}
        if t["init"] == "uniform":
            e["scale"] = t["scale"]
            e["offset"] = t["offset"]
        e["sum"] = math.fsum(values.ravel().tolist())
        e["xxh3_128"] = xxh3_128_hex(data)
        out["tensors"].append(e)
    return out


def write_weights_json(path, recipe):
    """One tensor per line: small diffs when a recipe changes."""
    head = {k: v for k, v in recipe.items() if k != "tensors"}
    text = json.dumps(head, indent=1)[:-2] + ',\n "tensors": [\n'
    text += ",\n".join("  " + json.dumps(t) for t in recipe["tensors"])
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n ]\n}\n")


# ---------------------------------------------------------------------------------------------------------
# Torch reference: Hugging Face BertModel / XLMRobertaModel semantics, eval mode, float64.


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, inter, eps = cfg["hidden_size"], cfg["intermediate_size"], cfg["layer_norm_eps"]
        self.heads = cfg["num_attention_heads"]
        self.hidden, self.head_dim = h, h // self.heads  # ints, so an ONNX trace keeps them constant
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_dense, self.attn_norm = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
        self.inter_dense, self.out_dense = nn.Linear(h, inter), nn.Linear(inter, h)
        self.out_norm = nn.LayerNorm(h, eps=eps)

    def forward(self, x, additive_mask):
        b, s = x.shape[0], x.shape[1]

        def split(t):
            return t.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + additive_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, self.hidden)
        x = self.attn_norm(self.attn_dense(ctx) + x)
        return self.out_norm(self.out_dense(F.gelu(self.inter_dense(x))) + x)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.xlmr = cfg["model_type"] == "xlm-roberta"
        self.pad_id = cfg["pad_token_id"]
        self.word = nn.Embedding(cfg["vocab_size"], h)
        self.position = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type = nn.Embedding(cfg["type_vocab_size"], h)
        self.norm = nn.LayerNorm(h, eps=cfg["layer_norm_eps"])
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))

    def load(self, values, prefix):
        """values: {name: float64 ndarray} from materialize()."""
        def w(name):
            return torch.from_numpy(np.array(values[prefix + name], dtype=np.float64))
        with torch.no_grad():
            self.word.weight.copy_(w("embeddings.word_embeddings.weight"))
            self.position.weight.copy_(w("embeddings.position_embeddings.weight"))
            self.token_type.weight.copy_(w("embeddings.token_type_embeddings.weight"))
            self.norm.weight.copy_(w("embeddings.LayerNorm.weight"))
            self.norm.bias.copy_(w("embeddings.LayerNorm.bias"))
            names = {"query": "attention.self.query", "key": "attention.self.key",
                     "value": "attention.self.value", "attn_dense": "attention.output.dense",
                     "attn_norm": "attention.output.LayerNorm", "inter_dense": "intermediate.dense",
                     "out_dense": "output.dense", "out_norm": "output.LayerNorm"}
            for i, layer in enumerate(self.layers):
                for attr, hf in names.items():
                    mod = getattr(layer, attr)
                    mod.weight.copy_(w("encoder.layer.%d.%s.weight" % (i, hf)))
                    mod.bias.copy_(w("encoder.layer.%d.%s.bias" % (i, hf)))

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        b, s = input_ids.shape
        if self.xlmr:
            # create_position_ids_from_input_ids: padding_idx + cumsum over non-pad tokens; pads get
            # padding_idx. (HF masks on input_ids != pad, not on attention_mask; the same for right padding.)
            m = input_ids.ne(self.pad_id).long()
            positions = torch.cumsum(m, dim=1) * m + self.pad_id
        else:
            positions = torch.arange(s, dtype=torch.long).unsqueeze(0).expand(b, s)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(positions)
        x = self.norm(x)
        dtype = x.dtype
        additive = (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        for layer in self.layers:
            x = layer(x, additive)
        return x


def pool(hidden, mask, pooling, normalize):
    """sentence-transformers Pooling + Normalize."""
    m = mask.to(hidden.dtype).unsqueeze(-1)
    if pooling == "mean":
        v = (hidden * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    elif pooling == "cls":
        v = hidden[:, 0]
    elif pooling == "lasttoken":
        last = mask.long().sum(1) - 1
        v = hidden[torch.arange(hidden.shape[0]), last]
    else:
        raise ValueError(pooling)
    return F.normalize(v, p=2, dim=1) if normalize else v


# ---------------------------------------------------------------------------------------------------------
# Fixture files


def dump_json(path, obj, indent=2):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=indent, ensure_ascii=False))
        f.write("\n")


def pooling_config(dim, pooling, full):
    c = {"word_embedding_dimension": dim,
         "pooling_mode_cls_token": pooling == "cls",
         "pooling_mode_mean_tokens": pooling == "mean",
         "pooling_mode_max_tokens": False,
         "pooling_mode_mean_sqrt_len_tokens": False}
    if full:  # newer sentence-transformers write these too
        c["pooling_mode_weightedmean_tokens"] = False
        c["pooling_mode_lasttoken"] = pooling == "lasttoken"
        c["include_prompt"] = True
    return c


def modules_json(normalize):
    mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        mods.append({"idx": 2, "name": "2", "path": "2_Normalize",
                     "type": "sentence_transformers.models.Normalize"})
    return mods


def write_st_files(d, spec):
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    dump_json(os.path.join(d, "config.json"), spec["config"])
    dump_json(os.path.join(d, "modules.json"), modules_json(spec["normalize"]))
    dump_json(os.path.join(d, "1_Pooling", "config.json"),
              pooling_config(spec["config"]["hidden_size"], spec["pooling"], spec.get("full_pooling", False)))
    dump_json(os.path.join(d, "sentence_bert_config.json"),
              {"max_seq_length": spec["max_seq_length"], "do_lower_case": False})


# Synthetic WordPiece vocabulary of tiny-bert: specials, ASCII characters and their ## forms, common words and
# suffixes. Enough for ordinary English text to tokenize into words rather than letters.
COMMON_WORDS = """
the of and to in is was for on that with as by at from it he she they we you this be are or an not his her
their have has had but which were one all can will there been more if who so no its out about up what
into only time new other some would when them than these two also first any may over after most people
like just year years made make many then such our could did do does use used way even back well through
where much before should good very because state world life how between each under three day work part
great think know take see come get while end still same here made both long last against never old man men
few own home public high small large best group water place city school being number since during without
house again another off per right left week show set point help found give case during data search query
text model word words token tokens document documents file files page book book read write run test tests
language learning machine system systems information result results question answer chunk chunks index
quick brown fox jumps lazy dog cat red blue green light dark night morning evening today tomorrow
yesterday sun moon star sea river mountain tree forest bird fish food water fire earth air love happy
sad big little short tall fast slow hot cold warm open close start stop play find call ask need feel try
leave put mean keep let begin seem talk turn move live believe hold bring happen provide sit stand lose pay
meet include continue learn change lead understand watch follow create speak allow add spend grow offer
remember consider appear buy wait serve die send expect build stay fall cut reach kill remain suggest raise
pass sell require report decide pull rank score relevant embedding vector dense sparse retrieval
""".split()
SUFFIXES = ["s", "es", "ed", "ing", "ly", "er", "est", "ion", "tion", "ness", "ment", "able", "ful", "less",
            "al", "ity", "ize", "ous", "ive", "en", "y", "ic", "ical", "ist", "ism", "ance", "ence", "ship",
            "d", "n", "t", "'s"]


def tiny_bert_vocab():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    punct = [chr(c) for c in range(33, 127) if not chr(c).isalnum()]
    digits = [str(d) for d in range(10)]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += punct + digits + letters + ["##" + c for c in digits + letters]
    seen = set(vocab)
    for w in COMMON_WORDS:
        if w not in seen:
            seen.add(w)
            vocab.append(w)
    for s in SUFFIXES:
        if "##" + s not in seen and s.isalpha():
            seen.add("##" + s)
            vocab.append("##" + s)
    return vocab


def tiny_bert_tokenizer_json(vocab):
    def special(i, tok):
        return {"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    def template(seq):
        out = []
        for kind, ident, type_id in seq:
            key = "SpecialToken" if kind == "s" else "Sequence"
            out.append({key: {"id": ident, "type_id": type_id}})
        return out

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(i, vocab[i]) for i in range(5)],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": template([("s", "[CLS]", 0), ("q", "A", 0), ("s", "[SEP]", 0)]),
            "pair": template([("s", "[CLS]", 0), ("q", "A", 0), ("s", "[SEP]", 0), ("q", "B", 1),
                              ("s", "[SEP]", 1)]),
            "special_tokens": {t: {"id": t, "ids": [vocab.index(t)], "tokens": [t]}
                               for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


def basic_wordpiece(text, vocab):
    """Hugging Face's BertNormalizer(lowercase) + BertPreTokenizer + WordPiece, for ASCII text only (enough
    for the text cases of the references; non-ASCII normalization is the tokenizer tests' business)."""
    assert all(32 <= ord(c) < 127 or c in "\t\n\r" for c in text), "ASCII only"
    index = {t: i for i, t in enumerate(vocab)}
    words, cur = [], ""
    for c in text.lower():
        if c.isspace():
            if cur:
                words.append(cur)
            cur = ""
        elif not c.isalnum():
            if cur:
                words.append(cur)
            words.append(c)
            cur = ""
        else:
            cur += c
    if cur:
        words.append(cur)
    ids = []
    for w in words:
        if len(w) > 100:
            ids.append(index["[UNK]"])
            continue
        pieces, start = [], 0
        while start < len(w):
            end = len(w)
            while end > start:
                piece = ("##" if start else "") + w[start:end]
                if piece in index:
                    break
                end -= 1
            if end == start:
                pieces = [index["[UNK]"]]
                break
            pieces.append(index[piece])
            start = end
        ids += pieces
    return ids


def check_wordpiece_against_llama_cpp(vocab):
    """The ASCII cases of the shared llama.cpp bert-bge tokenizer fixture (HF ids for this vocabulary)."""
    base = os.path.join(SHARED_DATA, "tokenizer_fixtures", "llama.cpp-bert-bge", "ggml-vocab-bert-bge.gguf")
    if not os.path.exists(base + ".inp"):
        return 0
    with open(base + ".inp", encoding="utf-8") as f:
        inputs = f.read().split("\n__ggml_vocab_test__\n")
    with open(base + ".out", encoding="utf-8") as f:
        outputs = f.read().split("\n")
    checked = 0
    for text, out in zip(inputs, outputs):
        if all(32 <= ord(c) < 127 or c in "\t\n\r" for c in text):
            assert basic_wordpiece(text, vocab) == [int(x) for x in out.split()], (text, out)
            checked += 1
    return checked


def bert_config(base, **over):
    c = {"_name_or_path": "rlm/" + over.pop("name"), "architectures": ["BertModel"],
         "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False, "hidden_act": "gelu",
         "hidden_dropout_prob": 0.1, "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
         "layer_norm_eps": 1e-12, "max_position_embeddings": 64, "model_type": "bert",
         "num_attention_heads": 4, "num_hidden_layers": 2, "pad_token_id": 0,
         "position_embedding_type": "absolute", "transformers_version": "4.8.2", "type_vocab_size": 2,
         "use_cache": True, "vocab_size": 0}
    c.update(base)
    c.update(over)
    return c


def write_tiny_bert_tokenizer(d, vocab, model_max_length):
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(tiny_bert_tokenizer_json(vocab), ensure_ascii=False, separators=(",", ":")))
    dump_json(os.path.join(d, "tokenizer_config.json"),
              {"do_lower_case": True, "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
               "cls_token": "[CLS]", "mask_token": "[MASK]", "tokenize_chinese_chars": True,
               "strip_accents": None, "do_basic_tokenize": True, "never_split": None,
               "tokenizer_class": "BertTokenizer", "model_max_length": model_max_length}, indent=None)
    dump_json(os.path.join(d, "special_tokens_map.json"),
              {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
               "mask_token": "[MASK]"}, indent=None)


def write_xlmr_tokenizer_config(d, model_max_length):
    dump_json(os.path.join(d, "tokenizer_config.json"),
              {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
               "model_max_length": model_max_length, "pad_token": "<pad>", "sep_token": "</s>",
               "sp_model_kwargs": {}, "tokenizer_class": "XLMRobertaTokenizer", "unk_token": "<unk>"})
    dump_json(os.path.join(d, "special_tokens_map.json"),
              {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
               "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"})


# ---------------------------------------------------------------------------------------------------------
# Model specs

TINY_BERT_VOCAB = tiny_bert_vocab()


def minilm_config(layers):
    with open(os.path.join(MINILM_DIR, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    c["num_hidden_layers"] = layers
    return c


def specs():
    tiny = bert_config({}, name="tiny-bert", vocab_size=len(TINY_BERT_VOCAB))
    xlmr = {"_name_or_path": "rlm/tiny-xlmr", "architectures": ["XLMRobertaModel"],
            "attention_probs_dropout_prob": 0.1, "bos_token_id": 0, "classifier_dropout": None,
            "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 32,
            "initializer_range": 0.02, "intermediate_size": 64, "layer_norm_eps": 1e-05,
            "max_position_embeddings": 66, "model_type": "xlm-roberta", "num_attention_heads": 4,
            "num_hidden_layers": 2, "output_past": True, "pad_token_id": 1,
            "position_embedding_type": "absolute", "torch_dtype": "float32",
            "transformers_version": "4.33.0", "type_vocab_size": 1, "use_cache": True, "vocab_size": 1000}
    bert_ids = {"cls": 2, "sep": 3, "pad": 0, "lo": 5, "hi": len(TINY_BERT_VOCAB)}
    xlmr_ids = {"cls": 0, "sep": 2, "pad": 1, "lo": 4, "hi": 999}  # <s> <pad> </s> <unk>, pieces, <mask>=999
    return {
        "tiny-bert": {"seed": 1001, "dtype": "F32", "config": tiny, "prefix": "", "pooling": "mean",
                      "normalize": False, "max_seq_length": 48, "tokenizer": "tiny-bert", "ids": bert_ids,
                      "commit_weights": True},
        "tiny-bert-prefixed": {"seed": 1002, "dtype": "F16", "prefix": "bert.", "position_ids": False,
                               "extra": [("cls.predictions.bias", [len(TINY_BERT_VOCAB)])],
                               "config": dict(tiny, _name_or_path="rlm/tiny-bert-prefixed"),
                               "pooling": "cls", "normalize": False, "max_seq_length": 48,
                               "tokenizer": "tiny-bert", "ids": bert_ids},
        "tiny-bert-bf16": {"seed": 1003, "dtype": "BF16", "prefix": "",
                           "config": dict(tiny, _name_or_path="rlm/tiny-bert-bf16"),
                           "pooling": "mean", "normalize": False, "max_seq_length": 48,
                           "tokenizer": "tiny-bert", "ids": bert_ids},
        "minilm-shaped": {"seed": 1004, "dtype": "F32", "prefix": "", "config_fn": lambda: minilm_config(2),
                          "pooling": "mean", "normalize": True, "max_seq_length": 256,
                          "tokenizer": "minilm", "extra_lengths": [256],
                          # The real tokenizer is not committed; tests copy it from the shared data folder.
                          "external": {"dir": "models/all-MiniLM-L6-v2",
                                       "files": ["vocab.txt", "tokenizer.json", "tokenizer_config.json",
                                                 "special_tokens_map.json"]},
                          "ids": {"cls": 101, "sep": 102, "pad": 0, "lo": 999, "hi": 30522}},
        "tiny-xlmr": {"seed": 1005, "dtype": "F32", "prefix": "", "config": xlmr, "pooling": "cls",
                      "normalize": True, "max_seq_length": 64, "tokenizer": "xlmr", "full_pooling": True,
                      "ids": xlmr_ids},
        # Last-token pooling (decoder-style embedders pool the final token; on BERT it is [SEP]): the row
        # pooled must be each sequence's own last real token, not the padded batch's last column.
        "tiny-bert-lasttoken": {"seed": 1006, "dtype": "F32", "prefix": "",
                                "config": dict(tiny, _name_or_path="rlm/tiny-bert-lasttoken"),
                                "pooling": "lasttoken", "normalize": True, "max_seq_length": 48,
                                "tokenizer": "tiny-bert", "ids": bert_ids, "full_pooling": True},
        # An XLMRobertaForMaskedLM checkpoint: "roberta."-prefixed names, an lm_head to ignore, BF16 weights.
        # No tokenizer files: the encoder test feeds ids (the sentencepiece model is tiny-xlmr's).
        "tiny-xlmr-prefixed": {"seed": 1007, "dtype": "BF16", "prefix": "roberta.",
                               "config": dict(xlmr, _name_or_path="rlm/tiny-xlmr-prefixed",
                                              architectures=["XLMRobertaForMaskedLM"],
                                              torch_dtype="bfloat16"),
                               "extra": [("lm_head.bias", [xlmr["vocab_size"]]),
                                         ("lm_head.dense.weight", [xlmr["hidden_size"], xlmr["hidden_size"]]),
                                         ("lm_head.dense.bias", [xlmr["hidden_size"]])],
                               "pooling": "mean", "normalize": True, "max_seq_length": 64,
                               "tokenizer": "xlmr-ids", "full_pooling": True, "ids": xlmr_ids},
    }


def build_recipe(spec):
    cfg = spec["config"]
    ts = encoder_tensors(cfg, spec.get("prefix", ""), spec.get("position_ids", True), spec.get("extra", ()))
    return make_recipe(spec["seed"], spec["dtype"], ts)


def make_cases(spec):
    cfg, ids = spec["config"], spec["ids"]
    seed = spec["seed"]
    # XLM-R's positions start at pad_token_id + 1, so it fits 2 tokens fewer than its position table.
    xlmr_offset = cfg["pad_token_id"] + 1 if cfg["model_type"] == "xlm-roberta" else 0
    max_pos = cfg["max_position_embeddings"] - xlmr_offset
    lengths = {"short": 7, "max_seq_length": spec["max_seq_length"]}
    if max_pos != spec["max_seq_length"]:
        lengths["max_positions"] = max_pos
    for n in spec.get("extra_lengths", []):
        if n not in lengths.values():
            lengths["len_%d" % n] = n

    def seq(name, n):
        body = randint(stream_seed(seed, "case/" + name), n - 2, ids["lo"], ids["hi"])
        return [ids["cls"]] + body + [ids["sep"]]

    cases = [(name, [seq(name, n)], None) for name, n in lengths.items()]
    rows = [seq("batch4/%d" % i, n) for i, n in enumerate([9, 23, 3, 16])]
    cases.append(("batch4", rows, None))
    for i, r in enumerate(rows):
        cases.append(("batch4_row%d_alone" % i, [r], None))
    texts = text_rows(spec)
    if texts:
        cases.append(("texts", [r for _, r in texts], [t for t, _ in texts]))
    out = []
    for name, rows, row_texts in cases:
        width = max(len(r) for r in rows)
        c = {"name": name}
        if row_texts:
            c["texts"] = row_texts
        c["input_ids"] = [r + [ids["pad"]] * (width - len(r)) for r in rows]
        c["attention_mask"] = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
        out.append(c)
    return out


BERT_TEXTS = ["The quick brown fox jumps over the lazy dog.",
              "Searching 42 documents quickly, the embeddings were relevant!"]
XLMR_TEXTS = ["The quick brown fox jumps over the lazy dog.", "Äpfel café naïve Ångström"]


def text_rows(spec):
    """[(text, ids with special tokens)] for the end-to-end case, or [] when the tokenizer is unavailable."""
    ids = spec["ids"]
    if spec["tokenizer"] == "tiny-bert":
        vocab = TINY_BERT_VOCAB
    elif spec["tokenizer"] == "minilm":
        with open(os.path.join(MINILM_DIR, "vocab.txt"), encoding="utf-8") as f:
            vocab = f.read().split("\n")[:-1]
        assert check_wordpiece_against_llama_cpp(vocab) > 0
    else:
        # Ids from the sentencepiece fixture's own reference (tools/gen_sentencepiece_fixture.py).
        path = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "xlmr_reference.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            known = {e["text"]: e["ids"] for e in map(json.loads, f)}
        return [(t, known[t]) for t in XLMR_TEXTS if t in known]
    return [(t, [ids["cls"]] + basic_wordpiece(t, vocab) + [ids["sep"]]) for t in BERT_TEXTS]


def fmt_floats(v):
    return "[" + ",".join("%.9g" % float(x) for x in np.asarray(v, dtype=np.float32)) + "]"


def reference_text(name, spec, cases):
    lines = ['{', '  "model": %s,' % json.dumps(name), '  "dtype": %s,' % json.dumps(spec["dtype"]),
             '  "pooling": %s,' % json.dumps(spec["pooling"]),
             '  "normalize": %s,' % json.dumps(spec["normalize"]), '  "cases": [']
    for ci, c in enumerate(cases):
        lines.append('    {')
        lines.append('      "name": %s,' % json.dumps(c["name"]))
        if "texts" in c:
            lines.append('      "texts": %s,' % json.dumps(c["texts"], ensure_ascii=False))
        lines.append('      "input_ids": %s,' % json.dumps(c["input_ids"], separators=(",", ":")))
        lines.append('      "attention_mask": %s,' % json.dumps(c["attention_mask"], separators=(",", ":")))
        lines.append('      "embeddings": [%s],' % ",\n        ".join(fmt_floats(e) for e in c["embeddings"]))
        lines.append('      "last_hidden_state_first_row_first_token": %s' % fmt_floats(c["first_token"]))
        lines.append('    }' + ("," if ci + 1 < len(cases) else ""))
    lines += ['  ]', '}', '']
    return "\n".join(lines)


def run_reference(spec, values, cases):
    model = Encoder(spec["config"]).double().eval()
    model.load(values, spec.get("prefix", ""))
    with torch.no_grad():
        for c in cases:
            ids = torch.tensor(c["input_ids"], dtype=torch.long)
            mask = torch.tensor(c["attention_mask"], dtype=torch.long)
            hidden = model(ids, mask)
            c["embeddings"] = pool(hidden, mask, spec["pooling"], spec["normalize"]).numpy()
            c["first_token"] = hidden[0, 0].numpy()
            c["hidden"] = hidden
    return model


def cross_check(spec, values, case):
    """Recomputes last_hidden_state with torch.nn.TransformerEncoderLayer (post-norm, erf GELU) and a
    separately written position-id rule, as an independent check of Encoder. Returns the max abs
    difference."""
    cfg, prefix = spec["config"], spec.get("prefix", "")
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]

    def w(name):
        return torch.from_numpy(np.array(values[prefix + name], dtype=np.float64))

    ids = torch.tensor(case["input_ids"], dtype=torch.long)
    mask = torch.tensor(case["attention_mask"], dtype=torch.long)
    b, s = ids.shape
    lengths = mask.sum(1)
    if cfg["model_type"] == "xlm-roberta":
        pad = cfg["pad_token_id"]
        pos = torch.full((b, s), pad, dtype=torch.long)
        for r in range(b):
            pos[r, :lengths[r]] = torch.arange(pad + 1, pad + 1 + int(lengths[r]))
    else:
        pos = torch.arange(s).repeat(b, 1)
    x = (w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[pos]
         + w("embeddings.token_type_embeddings.weight")[0])
    x = F.layer_norm(x, (h,), w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"),
                     cfg["layer_norm_eps"])
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        layer = nn.TransformerEncoderLayer(h, heads, cfg["intermediate_size"], dropout=0.0, activation="gelu",
                                           layer_norm_eps=cfg["layer_norm_eps"], batch_first=True,
                                           norm_first=False).double().eval()
        with torch.no_grad():
            att = layer.self_attn
            qkv = ("query", "key", "value")
            att.in_proj_weight.copy_(torch.cat([w(p + "attention.self.%s.weight" % m) for m in qkv]))
            att.in_proj_bias.copy_(torch.cat([w(p + "attention.self.%s.bias" % m) for m in qkv]))
            att.out_proj.weight.copy_(w(p + "attention.output.dense.weight"))
            att.out_proj.bias.copy_(w(p + "attention.output.dense.bias"))
            layer.norm1.weight.copy_(w(p + "attention.output.LayerNorm.weight"))
            layer.norm1.bias.copy_(w(p + "attention.output.LayerNorm.bias"))
            layer.linear1.weight.copy_(w(p + "intermediate.dense.weight"))
            layer.linear1.bias.copy_(w(p + "intermediate.dense.bias"))
            layer.linear2.weight.copy_(w(p + "output.dense.weight"))
            layer.linear2.bias.copy_(w(p + "output.dense.bias"))
            layer.norm2.weight.copy_(w(p + "output.LayerNorm.weight"))
            layer.norm2.bias.copy_(w(p + "output.LayerNorm.bias"))
            x = layer(x, src_key_padding_mask=mask.eq(0))
    x = x.detach()
    # Only the real tokens: the fast path of TransformerEncoderLayer may zero padded positions.
    return max(float((x[r, :lengths[r]] - case["hidden"][r, :lengths[r]]).abs().max()) for r in range(b))


def check_reference(name, spec, cases):
    """Batched == unbatched; embeddings depend on the input and are well-conditioned."""
    by_name = {c["name"]: c for c in cases}
    batch = by_name["batch4"]["embeddings"]
    for i in range(4):
        alone = by_name["batch4_row%d_alone" % i]["embeddings"][0]
        diff = np.abs(batch[i] - alone).max()
        assert diff < 1e-12, (name, i, diff)
    e = np.stack([c["embeddings"][0] for c in cases] + list(batch))
    assert np.isfinite(e).all()
    n = e / np.linalg.norm(e, axis=1, keepdims=True)
    cos = n @ n.T
    off = cos[~np.eye(len(n), dtype=bool)]
    # duplicates (row i alone vs batch row i) have cosine 1; everything else must differ clearly.
    distinct = off[off < 1 - 1e-9]
    print("  %-20s |emb| max %.3f  cos between inputs: min %.3f max %.3f mean %.3f" % (
        name, np.abs(e).max(), distinct.min(), distinct.max(), distinct.mean()))
    assert distinct.max() < 0.99, "embeddings barely depend on the input"


def generate(name, spec, out_root):
    if "config_fn" in spec:
        spec["config"] = spec["config_fn"]()
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    recipe = build_recipe(spec)
    tensors = materialize(recipe)
    write_weights_json(os.path.join(d, "weights.json"), recipe_json(recipe, tensors))
    path = os.path.join(d, "model.safetensors")
    if spec.get("commit_weights"):
        write_safetensors(path, recipe, tensors)
    elif os.path.exists(path):
        os.remove(path)
    write_st_files(d, spec)
    if spec["tokenizer"] == "tiny-bert":
        write_tiny_bert_tokenizer(d, TINY_BERT_VOCAB, spec["config"]["max_position_embeddings"])
    elif spec["tokenizer"] == "xlmr":
        write_xlmr_tokenizer_config(d, spec["max_seq_length"])
    if "external" in spec:
        dump_json(os.path.join(d, "external_files.json"), dict(
            spec["external"], root="$RLM_SHARED_DATA, default /work/shared/data"))
    values = {k: v[1] for k, v in tensors.items()}
    cases = make_cases(spec)
    run_reference(spec, values, cases)
    check_reference(name, spec, cases)
    diff = max(cross_check(spec, values, c) for c in cases if c["name"] in ("batch4", "short"))
    assert diff < 1e-9, (name, "nn.TransformerEncoderLayer disagrees", diff)
    print("  %-20s nn.TransformerEncoderLayer cross-check: max |diff| %.1e" % ("", diff))
    with open(os.path.join(d, "reference.json"), "w", encoding="utf-8") as f:
        f.write(reference_text(name, spec, cases))


# ---------------------------------------------------------------------------------------------------------
# Benchmark model: all-MiniLM-L6-v2 shapes, 6 layers, safetensors + ONNX export


class OnnxWrapper(nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.enc(input_ids, attention_mask, token_type_ids)


def generate_bench(out_dir):
    spec = {"seed": 2001, "dtype": "F32", "prefix": "", "config": minilm_config(6), "pooling": "mean",
            "normalize": True, "max_seq_length": 256}
    os.makedirs(out_dir, exist_ok=True)
    recipe = build_recipe(spec)
    tensors = materialize(recipe)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), recipe, tensors)
    write_st_files(out_dir, spec)
    copied = []
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        src = os.path.join(MINILM_DIR, f)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out_dir, f))
            copied.append(f)
    print("bench model: %s (tokenizer files copied: %s)" % (out_dir, ", ".join(copied) or "none"))

    enc = Encoder(spec["config"]).float().eval()
    enc.load({k: v[1] for k, v in tensors.items()}, "")
    model = OnnxWrapper(enc).eval()
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102, 0, 0],
                        [101, 7592, 2088, 999, 1000, 1001, 1002, 102]])
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    onnx_path = os.path.join(out_dir, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, types), onnx_path,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "token_type_ids": {0: "batch", 1: "sequence"},
                                        "last_hidden_state": {0: "batch", 1: "sequence"}},
                          opset_version=14, do_constant_folding=True)
    print("onnx: wrote %s (%d bytes)" % (onnx_path, os.path.getsize(onnx_path)))
    print("onnx: " + verify_onnx(onnx_path, model, ids, mask, types))


def verify_onnx(path, model, ids, mask, types):
    """Runs the exported graph on the export inputs and on a batch of another shape (dynamic axes) with the
    first ONNX runtime available: onnx.reference (onnx >= 1.13), onnxruntime, or onnxruntime-node through
    tools/node/run_onnx.mjs. Returns a one-line verdict."""
    import onnx
    onnx.checker.check_model(onnx.load(path))
    ids3 = torch.tensor([[101, 3000, 3001, 3002, 102], [101, 4000, 102, 0, 0], [101, 5000, 5001, 102, 0]])
    batches = [(ids, mask, types), (ids3, (ids3 != 0).long(), torch.zeros_like(ids3))]
    run, how = None, None
    try:
        from onnx.reference import ReferenceEvaluator
        ev = ReferenceEvaluator(path)
        run, how = (lambda feeds: ev.run(None, feeds)[0]), "onnx.reference"
    except ImportError:
        try:
            import onnxruntime
            sess = onnxruntime.InferenceSession(path)
            run, how = (lambda feeds: sess.run(None, feeds)[0]), "onnxruntime"
        except ImportError:
            script = os.path.join(ROOT, "tools", "node", "run_onnx.mjs")
            if shutil.which("node") and os.path.isdir(os.path.join(ROOT, "tools", "node", "node_modules",
                                                                   "onnxruntime-node")):
                def run(feeds):
                    import subprocess
                    import tempfile
                    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
                        json.dump({k: v.tolist() for k, v in feeds.items()}, f)
                        f.flush()
                        res = subprocess.run(["node", script, path, f.name], check=True, capture_output=True,
                                             cwd=os.path.dirname(script))
                    o = json.loads(res.stdout)["last_hidden_state"]
                    return np.array(o["data"], dtype=np.float32).reshape(o["dims"])
                how = "onnxruntime-node (tools/node/run_onnx.mjs)"
    if run is None:
        return "checker passed; no ONNX runtime (onnx %s has no onnx.reference), outputs NOT verified" % (
            onnx.__version__)
    worst = 0.0
    with torch.no_grad():
        for i, m, t in batches:
            expected = model(i, m, t).numpy()
            got = run({"input_ids": i.numpy(), "attention_mask": m.numpy(), "token_type_ids": t.numpy()})
            assert got.shape == expected.shape, (got.shape, expected.shape)
            # Padded positions are not compared: nothing downstream reads them.
            valid = m.numpy().astype(bool)
            worst = max(worst, float(np.abs(got - expected)[valid].max()))
    assert worst < 1e-4, "ONNX output differs from torch by %g" % worst
    return "outputs match torch float32 within %.1e (%s, 2 batch shapes)" % (worst, how)


# ---------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="fixture names (default: all)")
    ap.add_argument("--out-root", default=FIXTURES)
    ap.add_argument("--bench", metavar="OUT_DIR", help="write the benchmark model instead of the fixtures")
    args = ap.parse_args()
    torch.set_num_threads(1)  # determinism and a shared machine
    if args.bench:
        generate_bench(args.bench)
        return
    all_specs = specs()
    names = args.only or list(all_specs)
    for name in names:
        if name == "minilm-shaped" and not os.path.exists(os.path.join(MINILM_DIR, "config.json")):
            print("  skipping minilm-shaped: %s missing" % MINILM_DIR)
            continue
        generate(name, all_specs[name], args.out_root)


if __name__ == "__main__":
    main()
