// IFEval checkers on crafted responses, one or more per instruction id in the data, strict vs loose,
// and the text utilities against NLTK / instructions_util outputs recorded in harness_fixture.json.
// The approximate checkers (language, sentence count, capital words) are tested on clear-cut cases only.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ifeval } from "../../runtime/eval/index.js";
import { treebankTokenize } from "../../runtime/eval/ifeval/text.js";

const check = (id: string, kwargs: Record<string, unknown>, response: string): boolean => ifeval.buildChecker(id, kwargs)(response);

interface TextCase {
  text: string;
  sentences: string[];
  words: number;
  treebank: string[];
}
const texts = (JSON.parse(readFileSync(new URL("../fixtures/eval/harness_fixture.json", import.meta.url), "utf8")) as { ifeval_text: TextCase[] }).ifeval_text;

describe("IFEval text utilities vs the Python originals", () => {
  for (const t of texts) {
    it(JSON.stringify(t.text.slice(0, 30)), () => {
      expect(ifeval.splitIntoSentences(t.text)).toEqual(t.sentences);
      expect(ifeval.countWords(t.text)).toBe(t.words);
      expect(treebankTokenize(t.text)).toEqual(t.treebank);
    });
  }
});

describe("IFEval checkers on crafted responses", () => {
  it("covers every instruction id in the data", () => {
    const ids = new Set(
      readFileSync(new URL("../../data/eval/ifeval/train.jsonl", import.meta.url), "utf8")
        .trim()
        .split("\n")
        .flatMap((l) => (JSON.parse(l) as { instruction_id_list: string[] }).instruction_id_list),
    );
    expect([...ids].filter((id) => !ifeval.knownInstructions().includes(id))).toEqual([]);
    expect(ids.size).toBe(25);
  });

  it("keywords", () => {
    expect(check("keywords:existence", { keywords: ["Dog", "cat"] }, "A dog and a CAT.")).toBe(true);
    expect(check("keywords:existence", { keywords: ["dog", "bird"] }, "A dog.")).toBe(false);
    expect(check("keywords:frequency", { keyword: "the", frequency: 3, relation: "at least" }, "The theme of the play")).toBe(true); // substring matches count
    expect(check("keywords:frequency", { keyword: "x", frequency: 2, relation: "less than" }, "x x")).toBe(false);
    expect(check("keywords:forbidden_words", { forbidden_words: ["car"] }, "A cartoon.")).toBe(true); // \b word boundary
    expect(check("keywords:forbidden_words", { forbidden_words: ["car"] }, "My Car.")).toBe(false);
    expect(check("keywords:letter_frequency", { letter: "Z", let_frequency: 2, let_relation: "at least" }, "zebra Zone")).toBe(true);
    expect(check("keywords:letter_frequency", { letter: "!", let_frequency: 2, let_relation: "at least" }, "wow!!")).toBe(true); // literal char (see checkers.ts)
  });

  it("length constraints", () => {
    expect(check("length_constraints:number_words", { num_words: 3, relation: "less than" }, "one two")).toBe(true);
    expect(check("length_constraints:number_words", { num_words: 3, relation: "at least" }, "naïve café, ok")).toBe(true);
    expect(check("length_constraints:number_paragraphs", { num_paragraphs: 2 }, "A\n***\nB")).toBe(true);
    expect(check("length_constraints:number_paragraphs", { num_paragraphs: 2 }, "***\nA\n***\nB\n***")).toBe(true); // empty ends ignored
    expect(check("length_constraints:number_paragraphs", { num_paragraphs: 2 }, "A\n***\n\n***\nB")).toBe(false); // empty middle fails
    const nth = { num_paragraphs: 3, nth_paragraph: 2, first_word: "Second" };
    expect(check("length_constraints:nth_paragraph_first_word", nth, "First.\n\n\"Second, he said.\n\nThird.")).toBe(true);
    expect(check("length_constraints:nth_paragraph_first_word", nth, "First.\n\nOther start.\n\nThird.")).toBe(false);
    // approximate (Punkt): plain sentences, an abbreviation and a numbered list
    expect(ifeval.countSentences("One. Two! Three?")).toBe(3);
    expect(ifeval.countSentences("Dr. Smith arrived. He sat down.")).toBe(2);
    expect(ifeval.countSentences("Items:\n1. Apples\n2. Pears")).toBe(3);
    expect(check("length_constraints:number_sentences", { num_sentences: 2, relation: "less than" }, "Just one sentence here.")).toBe(true);
  });

  it("detectable content and format", () => {
    expect(check("detectable_content:number_placeholders", { num_placeholders: 2 }, "Hi [name], at [place]")).toBe(true);
    expect(check("detectable_content:postscript", { postscript_marker: "P.S." }, "Body\np.s. later")).toBe(true);
    expect(check("detectable_content:postscript", { postscript_marker: "P.P.S" }, "Body\nP. P. S. later")).toBe(true);
    expect(check("detectable_format:number_bullet_lists", { num_bullets: 3 }, "* a\n* b\n- c\n**bold** line")).toBe(true);
    expect(check("detectable_format:constrained_response", {}, "  My answer is maybe.  ")).toBe(true);
    expect(check("detectable_format:number_highlighted_sections", { num_highlights: 2 }, "*one* and **two**")).toBe(true);
    expect(check("detectable_format:number_highlighted_sections", { num_highlights: 1 }, "* * and ** **")).toBe(false);
    expect(check("detectable_format:multiple_sections", { section_spliter: "SECTION", num_sections: 2 }, "SECTION 1\na\nSECTION 2\nb")).toBe(true);
    expect(check("detectable_format:json_format", {}, '```JSON\n{"a": [1, 2]}\n```')).toBe(true);
    expect(check("detectable_format:json_format", {}, "{a: 1}")).toBe(false);
    expect(check("detectable_format:json_format", {}, '{"x": NaN}')).toBe(true); // Python json accepts NaN
    expect(check("detectable_format:title", {}, "<<My Title>>\ntext")).toBe(true);
    expect(check("detectable_format:title", {}, "<<  >>")).toBe(false);
  });

  it("combination, start/end, case, punctuation", () => {
    expect(check("combination:two_responses", {}, "First answer\n******\nSecond answer")).toBe(true);
    expect(check("combination:two_responses", {}, "Same\n******\nSame")).toBe(false);
    expect(check("combination:repeat_prompt", { prompt_to_repeat: "Write a poem." }, "write a poem. Roses are red")).toBe(true);
    expect(check("startend:end_checker", { end_phrase: "Any other questions?" }, 'Done. Any other questions?"')).toBe(true);
    expect(check("startend:quotation", {}, ' "quoted" ')).toBe(true);
    expect(check("punctuation:no_comma", {}, "no commas here")).toBe(true);
    expect(check("punctuation:no_comma", {}, "one, two")).toBe(false);
    // approximate: word_tokenize + isupper; "DON'T" -> "DO", "N'T" counts twice
    expect(check("change_case:capital_word_frequency", { capital_frequency: 4, capital_relation: "at least" }, "I DON'T KNOW it")).toBe(true);
    expect(check("change_case:capital_word_frequency", { capital_frequency: 2, capital_relation: "less than" }, "Only ONE here")).toBe(true);
    expect(check("change_case:english_capital", {}, "THIS IS ALL CAPITAL ENGLISH TEXT AND IT IS THE BEST")).toBe(true);
    expect(check("change_case:english_capital", {}, "THIS Is not")).toBe(false);
    expect(check("change_case:english_lowercase", {}, "all lowercase english text that is the answer")).toBe(true);
  });

  it("language (approximate detector): scripts and function words", () => {
    expect(ifeval.detectLanguage("Привет, как дела? Это тестовое сообщение.")).toBe("ru");
    expect(ifeval.detectLanguage("Привіт, як справи? Це її тест.")).toBe("uk");
    expect(ifeval.detectLanguage("यह एक परीक्षण है और यह हिंदी में है।")).toBe("hi");
    expect(ifeval.detectLanguage("हे एक वाक्य आहे आणि ते मराठी आहे.")).toBe("mr");
    expect(ifeval.detectLanguage("این یک متن فارسی است که می‌گوید چگونه")).toBe("fa");
    expect(ifeval.detectLanguage("Der Hund und die Katze sind nicht im Haus.")).toBe("de");
    expect(ifeval.detectLanguage("Tôi không biết điều này là gì.")).toBe("vi");
    expect(ifeval.detectLanguage("Hii ni sentensi ya Kiswahili na ni nzuri sana.")).toBe("sw");
    expect(ifeval.detectLanguage("안녕하세요 반갑습니다")).toBe("ko");
    expect(check("language:response_language", { language: "it" }, "Questo è un testo che non è in inglese e per la prova.")).toBe(true);
    expect(check("language:response_language", { language: "ta" }, "12345 !!!")).toBe(true); // no letters: counted as followed
  });
});

describe("strict vs loose", () => {
  const doc = { prompt: "p", instruction_id_list: ["startend:quotation", "punctuation:no_comma"], kwargs: [{}, {}] };
  it("loose forgives a first line, a last line and markdown stars", () => {
    const resp = 'Sure, here it is:\n"*quoted* answer"';
    expect(ifeval.followStrict(doc, resp)).toEqual([false, false]);
    expect(ifeval.followLoose(doc, resp)).toEqual([true, true]);
    expect(ifeval.ifevalProcessResults(doc, resp)).toEqual({
      prompt_level_strict_acc: false,
      inst_level_strict_acc: [false, false],
      prompt_level_loose_acc: true,
      inst_level_loose_acc: [true, true],
    });
  });
  it("an empty response follows nothing", () => {
    expect(ifeval.followStrict(doc, "   ")).toEqual([false, false]);
    expect(ifeval.followLoose(doc, "")).toEqual([false, false]);
  });
});
