// Writes tests/fixtures/tokenizer/hf_js_minilm.jsonl: the ids Hugging Face's JS tokenizer
// (@huggingface/transformers) gives for a fixed set of hostile and multilingual texts, with the special
// tokens and without truncation, for all-MiniLM-L6-v2's tokenizer.json. No network: the tokenizer is loaded
// from ../shared/data/models (or RLM_SHARED_DATA/models).
//
//   cd tools/node && npm install --ignore-scripts && node tokenizer_fixture.mjs
import { env, AutoTokenizer } from '@huggingface/transformers';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const sharedData = process.env.RLM_SHARED_DATA ?? resolve(root, '..', 'shared', 'data');
const out = join(root, 'tests', 'fixtures', 'tokenizer', 'hf_js_minilm.jsonl');

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(sharedData, 'models') + '/';

const TEXTS = [
  // empty and whitespace
  '',
  ' ',
  '   \t \n  ',
  '\r\n\r\n',
  // plain text and punctuation
  'Hello world!',
  'The quick brown fox jumps over the lazy dog.',
  "Don't stop-believing... (really?) [yes] {no} <maybe>",
  'a.b,c;d:e!f?g',
  '$100 + 20% = ~120^2 | x & y @ z # w `q` \\ /',
  '"quoted" \'single\' «guillemets» „low“ —dash– …',
  // accents and case
  'Äpfel café naïve Ångström',
  'ÉCOLE ÉLÉMENTAIRE Œuvre Æsir',
  'e\u0301cole combining acute, a\u0308 and o\u0323\u0302 stacked',
  'İstanbul ISTANBUL ıi',
  'STRASSE straße ẞ ß',
  'ΟΔΟΣ Σίσυφος ΣΊΣΥΦΟΣ',
  'Ǆemal ǅemal ǆemal',
  // CJK and other scripts
  '我们今天去公园散步，天气非常好。',
  '機器學習模型需要大量的文本資料。',
  '今日はとても良い天気ですね。カタカナとひらがな',
  'ｶﾀｶﾅ half-width katakana',
  '오늘 날씨가 정말 좋네요. 서울은 대한민국의 수도입니다.',
  'Быстрая коричневая лиса прыгает через ленивую собаку.',
  'Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.',
  'القطة تجلس على الحصيرة في البيت.',
  'שלום עולם',
  'आज मौसम बहुत अच्छा है। भारत की राजधानी नई दिल्ली है।',
  'วันนี้อากาศดีมาก กรุงเทพมหานคร',
  'ქართული ენა',
  'Tiếng Việt có dấu: Hà Nội, Đà Nẵng',
  'CJK compatibility 豈 更 and radicals ⺀ ⼀',
  'astral ideographs a𠮷b 𠀀𪜀 c',
  // what the Rust tokenizers library makes of the two texts above where JS differs from it (see the test)
  'οδοσ σίσυφος σίσυφοσ',
  'astral ideographs a 𠮷 b 𠀀 𪜀 c',
  // emoji
  'emoji 😀😃😄 done',
  'family 👨‍👩‍👧‍👦 and ZWJ 🏳️‍🌈',
  'flags 🇩🇪🇫🇷🇯🇵 skin 👍🏽 keycap 1️⃣',
  'hearts ❤️ ♥ ☺ ✓ ✔ ★',
  // control and invisible characters
  'nul\u0000byte',
  'bell\u0007char and escape\u001b[0m',
  'zero\u200bwidth space',
  'soft\u00adhyphen',
  '\ufeffbom at start',
  'tab\there\r\nwindows newline\rcr',
  'vertical\u000btab form\u000cfeed',
  'replacement \ufffd char',
  'nbsp\u00a0here and\u2003em space and\u3000ideographic',
  'line\u2028separator paragraph\u2029separator',
  'private use \ue000\uf8ff end',
  'rtl \u200fmark\u200e and \u2066isolate\u2069',
  'narrow\u202fnbsp next\u0085nel',
  // long words
  'x'.repeat(100),
  'y'.repeat(101),
  'z'.repeat(150) + ' short',
  'é'.repeat(100),
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'pneumonoultramicroscopicsilicovolcanoconiosis',
  // literal special tokens
  '[CLS] hi [SEP]',
  '[MASK]',
  'fill the [MASK] please',
  'no[MASK]space[SEP]end',
  '[unk] [Mask] [PAD] [UNK]',
  '[[CLS]]',
  '[CLS][SEP][PAD][MASK][UNK]',
  // digits
  '1234567890',
  '3.14159 2,718 1e-10 0x1F -42',
  '٠١٢٣٤٥٦٧٨٩ ١٢٣ and ０１２３',
  '①②③ ½ ¾ ² ³',
  // URLs, code, paths
  'https://example.com/search?q=tokenizer&lang=en#top',
  'mailto:someone@example.org',
  'for (int i = 0; i < n; ++i) { sum += values[i]; }',
  'def f(x): return x**2 if x > 0 else -x',
  'C:\\Users\\name\\file.txt and /usr/local/bin',
  '<div class="a">Hello</div>',
  // fullwidth and math
  'ｆｕｌｌｗｉｄｔｈ ＡＢＣ！？',
  '∀x ∈ ℝ: x² ≥ 0, ∑∫√∞ ≠ ≈',
  '𝐁𝐨𝐥𝐝 𝔉𝔯𝔞𝔨𝔱𝔲𝔯 ℌ',
  'ﬁ ligature ﬀ ﬃ',
  // mixed
  'Mañana vamos a la montaña con nuestros amigos.',
  'Größere Modelle brauchen mehr Speicher.',
  'hello\u3000世界\u3000!',
  'mixed中文and English',
];

const tokenizer = await AutoTokenizer.from_pretrained('all-MiniLM-L6-v2');
const lines = TEXTS.map((text) => {
  const ids = tokenizer.encode(text, { add_special_tokens: true });
  return JSON.stringify({ text, ids });
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${out} (${lines.length} texts)`);
