// Validates scripts/eval/questions.json and the later tuning sets (questions-dev*.json) against the two knowledge bases.
// Node 20, no dependencies. Usage: node scripts/eval/check.mjs  (exit code 1 on any error)
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const KB_DIRS = { demo: join(here, "..", "demo", "knowledge"), kb2: join(here, "kb2"), kb3: join(here, "kb3") };
const LANGS = ["en", "es", "de", "fr", "pt"];
const KINDS = ["answerable", "out_of_scope", "handoff"];
const SPLITS = ["tune", "test"];
const KEYS = ["id", "kb", "q", "lang", "kind", "doc", "facts", "split"];

const errors = [];
const warnings = [];
const err = (m) => errors.push(m);

// Knowledge bases: title = first line without "# " (the same rule as scripts/seed-demo.mjs).
const kbs = {};
for (const [kb, dir] of Object.entries(KB_DIRS)) {
  kbs[kb] = new Map();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    const first = text.split("\n")[0];
    if (!/^# \S/.test(first)) err(`${kb}/${file}: first line is not a "# Title" heading`);
    const title = first.replace(/^#\s*/, "").trim();
    if (kbs[kb].has(title)) err(`${kb}/${file}: duplicate title "${title}"`);
    kbs[kb].set(title, text);
    if (kb === "kb2") {
      const words = text.split(/\s+/).filter(Boolean).length;
      if (words < 150 || words > 450) err(`kb2/${file}: ${words} words (expected 150-450)`);
      if (!/^## \S/m.test(text)) err(`kb2/${file}: no "##" section`);
    }
  }
}
const kb2Count = kbs.kb2.size;
if (kb2Count < 8 || kb2Count > 10) err(`kb2 has ${kb2Count} documents (expected 8-10)`);

let questions;
try {
  questions = JSON.parse(readFileSync(join(here, "questions.json"), "utf8"));
} catch (e) {
  console.error(`questions.json: ${e.message}`);
  process.exit(1);
}
if (!Array.isArray(questions)) err("questions.json is not an array");
if (questions.length < 170) err(`only ${questions.length} questions (expected at least 170)`);

// The older labelled set must not be copied.
const oldSet = new Set(
  JSON.parse(readFileSync(join(here, "..", "demo", "questions.json"), "utf8")).map((o) => o.q.trim().toLowerCase()),
);

// The later tuning sets (`questions-dev.json`, split "dev"; `questions-dev2.json`, split
// "dev2"; `questions-dev3.json`, split "dev3"; `questions-dev4.json`, split "dev4"), checked the
// same way; the balance below is the labelled set's own.
const later = [
  ["questions-dev.json", "dev"],
  ["questions-dev2.json", "dev2"],
  ["questions-dev3.json", "dev3"],
  ["questions-dev4.json", "dev4"],
  // A Spanish shop's own help pages (kb3), with a tuning and a held-out half of its own.
  ["questions-kb3.json", ["kb3-tune", "kb3-test"]],
].map(([file, split]) => {
  let set = [];
  try {
    set = JSON.parse(readFileSync(join(here, file), "utf8"));
  } catch (e) {
    err(`${file}: ${e.message}`);
  }
  if (!Array.isArray(set)) {
    err(`${file} is not an array`);
    set = [];
  }
  return { file, split, set };
});

const ids = new Set();
const texts = new Set();
const entries = [
  ...questions.map((o, i) => ["questions.json", i, o, SPLITS]),
  ...later.flatMap(({ file, split, set }) => set.map((o, i) => [file, i, o, [split].flat()])),
];
for (const [file, i, o, splits] of entries) {
  const at = `${file} #${i} (${o?.id ?? "no id"})`;
  if (typeof o !== "object" || o === null || Array.isArray(o)) { err(`${at}: not an object`); continue; }
  const keys = Object.keys(o);
  for (const k of KEYS) if (!keys.includes(k)) err(`${at}: missing "${k}"`);
  for (const k of keys) if (!KEYS.includes(k)) err(`${at}: unknown key "${k}"`);
  if (typeof o.id !== "string" || !/^[a-z]\d{3}$/.test(o.id)) err(`${at}: bad id`);
  else if (ids.has(o.id)) err(`${at}: duplicate id`);
  else ids.add(o.id);
  if (!(o.kb in kbs)) err(`${at}: bad kb "${o.kb}"`);
  if (typeof o.q !== "string" || !o.q.trim()) err(`${at}: empty q`);
  else {
    const norm = `${o.kb}|${o.q.trim().toLowerCase()}`;
    if (texts.has(norm)) err(`${at}: duplicate question text`);
    texts.add(norm);
    if (oldSet.has(o.q.trim().toLowerCase())) err(`${at}: copied from scripts/demo/questions.json`);
  }
  if (!LANGS.includes(o.lang)) err(`${at}: bad lang "${o.lang}"`);
  if (!KINDS.includes(o.kind)) err(`${at}: bad kind "${o.kind}"`);
  if (!splits.includes(o.split)) err(`${at}: bad split "${o.split}"`);
  if (!Array.isArray(o.facts) || o.facts.some((f) => typeof f !== "string" || !f.trim())) {
    err(`${at}: facts must be an array of non-empty strings`);
    continue;
  }
  if (o.kind === "answerable") {
    if (typeof o.doc !== "string") { err(`${at}: answerable without doc`); continue; }
    if (o.facts.length < 1 || o.facts.length > 3) err(`${at}: answerable needs 1-3 facts`);
    const text = kbs[o.kb]?.get(o.doc);
    if (text === undefined) { err(`${at}: doc "${o.doc}" is not a title in ${o.kb}`); continue; }
    for (const f of o.facts) {
      if (!text.toLowerCase().includes(f.toLowerCase())) err(`${at}: fact "${f}" not in "${o.doc}"`);
    }
  } else if (KINDS.includes(o.kind)) {
    if (o.doc !== null) err(`${at}: ${o.kind} must have doc null`);
    if (o.facts.length) err(`${at}: ${o.kind} must have no facts`);
  }
}

// Counts and split balance.
const count = (pred) => questions.filter(pred).length;
const table = [];
for (const kb of Object.keys(kbs)) {
  for (const kind of KINDS) {
    for (const lang of LANGS) {
      const tune = count((o) => o.kb === kb && o.kind === kind && o.lang === lang && o.split === "tune");
      const test = count((o) => o.kb === kb && o.kind === kind && o.lang === lang && o.split === "test");
      if (tune + test) table.push({ kb, kind, lang, tune, test, total: tune + test });
    }
  }
}
console.table(table);
const balance = (label, pred) => {
  const tune = count((o) => pred(o) && o.split === "tune");
  const test = count((o) => pred(o) && o.split === "test");
  const total = tune + test;
  if (Math.abs(tune - test) > Math.max(2, Math.ceil(total * 0.1))) err(`split imbalance for ${label}: ${tune} tune / ${test} test`);
  return { label, tune, test, total };
};
const summary = [];
for (const kind of KINDS) summary.push(balance(`kind=${kind}`, (o) => o.kind === kind));
for (const kb of ["demo", "kb2"]) summary.push(balance(`kb=${kb}`, (o) => o.kb === kb));
for (const lang of LANGS) summary.push(balance(`lang=${lang}`, (o) => o.lang === lang));
for (const kb of ["demo", "kb2"]) for (const kind of KINDS) summary.push(balance(`${kb}/${kind}`, (o) => o.kb === kb && o.kind === kind));
summary.push(balance("all", () => true));
console.table(summary);

// Every document should be the target of at least one answerable question.
for (const [kb, docs] of Object.entries(kbs)) {
  for (const title of docs.keys()) {
    if (![questions, ...later.map((l) => l.set)].flat().some((o) => o.kb === kb && o.doc === title)) warnings.push(`${kb}: no question targets "${title}"`);
  }
}

for (const w of warnings) console.warn(`warning: ${w}`);
if (errors.length) {
  for (const e of errors) console.error(`error: ${e}`);
  console.error(`${errors.length} error(s)`);
  process.exit(1);
}
const more = later.reduce((n, { set }) => n + set.length, 0);
console.log(`ok: ${questions.length} questions and ${more} more, ${kbs.demo.size} demo docs, ${kbs.kb2.size} kb2 docs, ${kbs.kb3.size} kb3 docs`);
