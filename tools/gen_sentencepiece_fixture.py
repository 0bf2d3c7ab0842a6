#!/usr/bin/python3
"""Generates the tiny XLM-RoBERTa tokenizer fixture and its reference ids.

Writes
  tests/fixtures/models/tiny-xlmr/sentencepiece.bpe.model   a unigram sentencepiece model, 998 pieces
  tests/fixtures/tokenizer/xlmr_reference.jsonl             {"text", "ids"} per line, ids with <s> </s>

The model is trained on the fixed multilingual corpus below, single-threaded with a fixed seed, so two runs
write identical bytes (the script checks this by training twice). The XLM-R vocabulary is 998 + 2 = 1000:
fairseq puts <s>=0 <pad>=1 </s>=2 <unk>=3 first, shifts every other sentencepiece id by one and appends
<mask>. The reference ids follow Hugging Face's slow XLMRobertaTokenizer: split the text on literal special
tokens, encode each remaining segment to pieces, map pieces to ids with the fairseq offset (sentencepiece's
unk, id 0, becomes <unk>=3).

Run with Debian's python3 (python3-sentencepiece): /usr/bin/python3 tools/gen_sentencepiece_fixture.py
"""

import io
import json
import os
import random
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_PATH = os.path.join(ROOT, "tests/fixtures/models/tiny-xlmr/sentencepiece.bpe.model")
REFERENCE_PATH = os.path.join(ROOT, "tests/fixtures/tokenizer/xlmr_reference.jsonl")
VOCAB_SIZE = 998  # + <pad>/<mask> shift = 1000 ids in the XLM-R layout

SENTENCES = {
    "en": [
        "The quick brown fox jumps over the lazy dog.",
        "Retrieval augmented generation needs good chunking and embeddings.",
        "A tokenizer turns text into numbers that a model can read.",
        "Search engines rank documents by their relevance to a query.",
        "The weather today is sunny with a light breeze from the west.",
        "She sells sea shells by the sea shore every summer morning.",
        "Databases store records in tables with rows and columns.",
        "Machine learning models are trained on large collections of text.",
        "Please read the documentation before you open an issue.",
        "Numbers like 42, 3.14 and 2024 appear in many sentences.",
    ],
    "de": [
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "Äpfel und Birnen wachsen im Garten hinter dem Haus.",
        "Die Straße ist heute wegen Bauarbeiten gesperrt.",
        "Wir müssen die Übersetzung bis Freitag fertigstellen.",
        "Größere Modelle brauchen mehr Speicher und Rechenzeit.",
    ],
    "fr": [
        "Le café est prêt, voulez-vous une tasse avec du lait ?",
        "L'été dernier, nous avons visité les châteaux de la Loire.",
        "Cette idée naïve a pourtant changé le cours de l'histoire.",
        "Les élèves étudient la géographie et les mathématiques.",
        "Où se trouve la bibliothèque la plus proche d'ici ?",
    ],
    "es": [
        "El niño comió una manzana después de la escuela.",
        "¿Dónde está la estación de tren más cercana?",
        "La música española tiene una larga tradición.",
        "Mañana vamos a la montaña con nuestros amigos.",
    ],
    "ru": [
        "Быстрая коричневая лиса прыгает через ленивую собаку.",
        "Москва является столицей России и крупнейшим городом.",
        "Сегодня хорошая погода, и мы идём гулять в парк.",
        "Машинное обучение помогает искать нужные документы.",
    ],
    "el": [
        "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
        "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
        "Καλημέρα, τι κάνεις σήμερα;",
    ],
    "zh": [
        "我们今天去公园散步，天气非常好。",
        "机器学习模型需要大量的文本数据进行训练。",
        "北京是中华人民共和国的首都。",
        "这个问题很难回答，但是我们会努力。",
        "搜索引擎根据相关性对文档进行排序。",
    ],
    "ja": [
        "今日はとても良い天気ですね。",
        "東京は日本の首都で、人口が多いです。",
        "カタカナとひらがなを勉強しています。",
        "この本はとても面白かったです。",
    ],
    "ko": [
        "오늘 날씨가 정말 좋네요.",
        "서울은 대한민국의 수도입니다.",
        "한국어를 공부하는 것은 재미있어요.",
    ],
    "ar": [
        "القطة تجلس على الحصيرة في البيت.",
        "اللغة العربية جميلة وغنية بالمفردات.",
        "ذهبنا إلى السوق لشراء الخبز والفواكه.",
    ],
    "hi": [
        "आज मौसम बहुत अच्छा है।",
        "भारत की राजधानी नई दिल्ली है।",
        "मुझे किताबें पढ़ना पसंद है।",
    ],
    "th": [
        "วันนี้อากาศดีมาก",
        "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
    ],
    "code": [
        "def tokenize(text): return [w for w in text.split() if w]",
        "for (int i = 0; i < n; ++i) { sum += values[i]; }",
        "https://example.com/search?q=tokenizer&lang=en",
        "SELECT id, name FROM buffers WHERE size > 1024 ORDER BY id;",
    ],
}


# Syllables of pseudo-words, so the corpus has enough distinct substrings for 998 pieces.
SYLLABLES = {
    "latin": "ka ri to men sa lo ver di an tu ber ach schu ge ün ré ça ño pé tion ment ung lich".split(),
    "cyrillic": "ка ри то мен са ло вер ди ан ту ер ый ть ще жи ю".split(),
    "greek": "κα ρι το μεν σα λο βερ δι αν του ης ων".split(),
    "kana": "か き く け こ さ し す せ そ た ち つ て と な に カ キ ク ケ コ サ シ ス".split(),
}


def pseudo_word(rng, script):
    if script == "hangul":  # 96 composed syllables U+AC00 + (lead * 21 + vowel) * 28 + tail
        return "".join(chr(0xAC00 + (2 * rng.randrange(8) * 21 + 3 * rng.randrange(6)) * 28 + rng.choice([0, 4]))
                       for _ in range(rng.randint(1, 3)))
    if script == "han":  # a fixed pool of 120 common-block ideographs
        return "".join(chr(0x4E00 + 131 * rng.randrange(120)) for _ in range(rng.randint(1, 4)))
    return "".join(rng.choice(SYLLABLES[script]) for _ in range(rng.randint(1, 4)))


def corpus_lines():
    """A few hundred deterministic lines: every sentence, seeded mixes of sentences, pseudo-word lines."""
    rng = random.Random(20240501)
    langs = sorted(SENTENCES)
    scripts = sorted(SYLLABLES) + ["han", "hangul"]
    lines = []
    for lang in langs:
        lines.extend(SENTENCES[lang])
    while len(lines) < 200:
        parts = []
        for _ in range(rng.randint(2, 3)):
            lang = langs[rng.randrange(len(langs))]
            parts.append(SENTENCES[lang][rng.randrange(len(SENTENCES[lang]))])
        lines.append(" ".join(parts))
    while len(lines) < 500:
        script = scripts[rng.randrange(len(scripts))]
        lines.append(" ".join(pseudo_word(rng, script) for _ in range(rng.randint(6, 12))) + " " +
                     str(rng.randrange(100000)))
    return lines


def train():
    spm.set_random_generator_seed(1234)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_lines()),
        model_writer=model,
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        character_coverage=0.9995,
        num_threads=1,
        shuffle_input_sentence=False,
        input_sentence_size=0,
        normalization_rule_name="nmt_nfkc",
        byte_fallback=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        hard_vocab_limit=True,
        minloglevel=2,
    )
    return model.getvalue()


# The reference text set: accents, scripts the model saw and did not see, emoji, controls, long words,
# whitespace, literal special tokens, digits, URLs, code.
TEXTS = [
    "",
    " ",
    "   \t\n  ",
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "hello <mask> world",
    "<s> hello </s>",
    "<pad><unk><mask>",
    "a<mask>b",
    "<S> not special </S>",
    "Äpfel café naïve Ångström",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "L'été dernier, nous avons visité les châteaux de la Loire.",
    "e\u0301cole combining acute",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "①②③ ﬁ ligature ㎏",
    "我们今天去公园散步，天气非常好。",
    "今日はとても良い天気ですね。カタカナ",
    "오늘 날씨가 정말 좋네요.",
    "Быстрая коричневая лиса",
    "Η Αθήνα είναι η πρωτεύουσα",
    "القطة تجلس على الحصيرة",
    "आज मौसम बहुत अच्छा है।",
    "วันนี้อากาศดีมาก",
    "emoji 😀 family 👨‍👩‍👧‍👦 flag 🇩🇪 thumbs 👍🏽",
    "tab\there\r\nnewline",
    "nul\u0000bell\u0007zw\u200bshy\u00adbom\ufeff",
    "x" * 100,
    "y" * 150,
    "İstanbul STRASSE straße ß",
    "1234567890 3.14159 1,000,000",
    "https://example.com/search?q=tokenizer&lang=en",
    "for (int i = 0; i < n; ++i) { sum += values[i]; }",
    "∀x ∈ ℝ: x² ≥ 0 ∑∫√∞",
    "unknownglyphs ᚠᛇᚻ ꦲꦤ",
    "many     spaces    between",
    "Mañana vamos a la montaña.",
    "SELECT id, name FROM buffers;",
    "<mask>",
    "<mask><mask> <s></s>",
    "text<unk>more<pad>",
    "tab\tinside\u000bvertical\u000cform",
    "\u00a0nbsp\u2003em\u3000ideographic",
    "ｶﾀｶﾅ half-width ＡＢＣ！？",
    "Ǆemal ǅemal ǆemal ΟΔΟΣ Σίσυφος",
    "ＡＢＣ ① ㌔ ℌ 𝐁𝐨𝐥𝐝",
    "機器學習模型需要大量的文本資料。",
    "カタカナとひらがなを勉強しています。",
    "서울은 대한민국의 수도입니다.",
    "Москва является столицей России.",
    "Καλημέρα, τι κάνεις σήμερα;",
    "ذهبنا إلى السوق لشراء الخبز",
    "भारत की राजधानी नई दिल्ली है।",
    "กรุงเทพมหานครเป็นเมืองหลวง",
    "שלום עולם",
    "Tiếng Việt có dấu",
    "a\u0308o\u0323\u0302 stacked marks",
    "rtl \u200fmark\u200e \u2066iso\u2069",
    "private \ue000 use",
    "replacement \ufffd char",
    "0" * 60,
    "3.14159 2,718 1e-10 0x1F -42",
    "C:\\Users\\name\\file.txt /usr/local/bin",
    "<div class=\"a\">Hello</div>",
    "def f(x): return x**2 if x > 0 else -x",
    "mixed中文and English 混合",
    "hello\u3000世界\u3000!",
    "Größere Modelle brauchen mehr Speicher.",
    "la" * 200,
]


def reference_ids(sp, text):
    """HF's slow XLMRobertaTokenizer: <s> + pieces of each non-special segment + </s>."""
    fairseq = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    mask_id = sp.get_piece_size() + 1
    specials = {**fairseq, "<mask>": mask_id}
    ids = [0]
    pos = 0
    segment_start = 0
    while pos <= len(text):
        match = None
        for tok in specials:
            if text.startswith(tok, pos) and (match is None or len(tok) > len(match)):
                match = tok
        if match is None and pos < len(text):
            pos += 1
            continue
        segment = text[segment_start:pos]
        for piece in sp.encode(segment, out_type=str):
            if piece in fairseq:
                ids.append(fairseq[piece])
            else:
                spm_id = sp.piece_to_id(piece)
                ids.append(spm_id + 1 if spm_id else 3)
        if match is None:
            break
        ids.append(specials[match])
        pos += len(match)
        segment_start = pos
    ids.append(2)
    return ids


def main():
    first = train()
    second = train()
    if first != second:
        sys.exit("sentencepiece training is not deterministic: two runs wrote different models")
    os.makedirs(os.path.dirname(MODEL_PATH), exist_ok=True)
    with open(MODEL_PATH, "wb") as f:
        f.write(first)
    sp = spm.SentencePieceProcessor(model_proto=first)
    assert sp.get_piece_size() == VOCAB_SIZE, sp.get_piece_size()
    os.makedirs(os.path.dirname(REFERENCE_PATH), exist_ok=True)
    with open(REFERENCE_PATH, "w", encoding="utf-8") as f:
        for text in TEXTS:
            f.write(json.dumps({"text": text, "ids": reference_ids(sp, text)}, ensure_ascii=False) + "\n")
    print(f"wrote {MODEL_PATH} ({len(first)} bytes) and {REFERENCE_PATH} ({len(TEXTS)} texts)")


if __name__ == "__main__":
    main()
