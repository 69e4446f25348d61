// Language identification for IFEval's language checks: an APPROXIMATION of `langdetect.detect`.
//
// langdetect (a port of Shuyo's n-gram profiles for 55 languages) is not available here. This detector
// decides by script first (Hangul, Thai, the Indic scripts, Greek, Hebrew, ... are one language each as
// langdetect sees them), then separates languages that share a script by distinctive letters (Arabic /
// Persian / Urdu, Russian / Ukrainian / Bulgarian) or by counting common function words (Latin script,
// Devanagari). It returns langdetect's codes. Text without letters raises, as langdetect does
// ("No features in text"), and the checkers then count the instruction as followed.

export class LangDetectError extends Error {}

const SCRIPTS: [string, RegExp][] = [
  ["latin", /\p{Script=Latin}/u],
  ["cyrillic", /\p{Script=Cyrillic}/u],
  ["arabic", /\p{Script=Arabic}/u],
  ["devanagari", /\p{Script=Devanagari}/u],
  ["bn", /\p{Script=Bengali}/u],
  ["pa", /\p{Script=Gurmukhi}/u],
  ["gu", /\p{Script=Gujarati}/u],
  ["ta", /\p{Script=Tamil}/u],
  ["te", /\p{Script=Telugu}/u],
  ["kn", /\p{Script=Kannada}/u],
  ["ml", /\p{Script=Malayalam}/u],
  ["th", /\p{Script=Thai}/u],
  ["ko", /\p{Script=Hangul}/u],
  ["kana", /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ["han", /\p{Script=Han}/u],
  ["he", /\p{Script=Hebrew}/u],
  ["el", /\p{Script=Greek}/u],
];

const LATIN_WORDS: Record<string, string> = {
  en: "the and of to is in that it for you was with on as are be this have not but what all were when we there can an your which their if will one about would so some them other",
  de: "der die und das ist nicht ich sie es ein eine zu den mit sich auf für von dem im auch wird werden sind wir aber oder nach bei wie noch",
  fr: "le la les et des est une pas que pour dans qui sur avec ce il elle nous vous sont mais ou du au plus être cette",
  es: "el la los las y de que en un una es por con para no se del su al lo como más pero sus le ya este esta son",
  it: "il di che la e un una per non sono è della del con si le gli lo questo anche ma come più nel alla dei delle",
  pt: "o a os as e de do da que em um uma não para com se por mais dos das como mas ao isso você são está é também",
  nl: "de het een en van is dat niet op te zijn met voor die er aan ook als maar om bij dit wordt naar",
  sv: "och att det är som en på för av med den till inte har om ett jag de var men så kan",
  da: "og at det er en på til af med den for ikke har som de jeg der var men så kan et",
  no: "og det er som en på til av med for ikke har de jeg var men så kan et om",
  fi: "ja on ei se että oli hän mutta kun niin tai ovat myös joka ole sekä kuin mitä tämä nyt voi",
  sw: "na ya wa kwa ni katika za la kuwa hii au lakini pia kama yake hiyo huo cha vya watu sana",
  id: "yang dan di itu dengan untuk tidak ini dari dalam akan pada juga saya ke karena bisa ada",
  tr: "ve bir bu da de için ile çok ne var daha gibi olarak ama ben sen mi değil",
  pl: "i w nie na się z że do to jest jak o co ale po tak czy jego przez",
  vi: "và của là có không những được trong cho các một người với này đã để như khi thì",
};

const DEVANAGARI_WORDS: Record<string, string> = {
  hi: "है के में की और को से का यह हैं था एक पर लिए भी कि नहीं जो इस तो हो",
  mr: "आहे आणि या च्या हे ते की व आहेत होते करून म्हणून तर मध्ये नाही एक त्या",
  ne: "छ र को मा हो गर्न पनि छन् भएको गरेको यो एक लागि थियो गरी हुन्छ",
};

function wordSets(table: Record<string, string>): Map<string, Set<string>> {
  return new Map(Object.entries(table).map(([k, v]) => [k, new Set(v.split(" "))]));
}
const LATIN = wordSets(LATIN_WORDS);
const DEVANAGARI = wordSets(DEVANAGARI_WORDS);

function byWords(text: string, table: Map<string, Set<string>>, fallback: string): string {
  const words = text.toLowerCase().split(/[^\p{L}\p{M}]+/u).filter(Boolean);
  let best = fallback;
  let bestScore = 0;
  for (const [lang, set] of table) {
    const score = words.filter((w) => set.has(w)).length;
    if (score > bestScore) {
      best = lang;
      bestScore = score;
    }
  }
  return best;
}

function dominantScript(text: string): string {
  const counts = new Map<string, number>();
  for (const ch of text) {
    for (const [name, re] of SCRIPTS) {
      if (re.test(ch)) {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        break;
      }
    }
  }
  if (counts.size === 0) throw new LangDetectError("No features in text.");
  if (counts.has("kana")) return "kana";
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

/** langdetect-style language code of `text` (approximation; see the module header). */
export function detectLanguage(text: string): string {
  const script = dominantScript(text);
  switch (script) {
    case "latin":
      return /[ăđơư]|[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/iu.test(text) ? "vi" : byWords(text, LATIN, "en");
    case "cyrillic":
      if (/[іїєґ]/iu.test(text)) return "uk";
      if (/[ѓќѕљњџ]/iu.test(text)) return "mk";
      return /ъ/iu.test(text) && !/[ыэё]/iu.test(text) ? "bg" : "ru";
    case "arabic":
      if (/[ٹڈڑںےۓ]/u.test(text)) return "ur";
      return /[پچژگکی]/u.test(text) ? "fa" : "ar";
    case "devanagari":
      return byWords(text, DEVANAGARI, "hi");
    case "kana":
      return "ja";
    case "han":
      return "zh-cn";
    default:
      return script;
  }
}
