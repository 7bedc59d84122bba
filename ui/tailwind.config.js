// Tailwind (v3) for Strato's pages: ui/ui.cmake runs the CLI on styles/app.css with this file.
// The pages' HTML is in templates/*.mustache (read as HTML); a few class names may still be in
// the pages' C++ (http/**/*.cpp, string literals only); passkeys.js and any other script in
// static/ may add classes too.
const path = require("node:path");

// Candidate class names in C++: the words inside string literals only, so code such as
// `!state.empty()` is not taken for Tailwind's important modifier. Escaped quotes (class=\"a b\")
// and markup characters separate words.
function extractCpp(source) {
  const words = [];
  for (const [, literal] of source.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)) {
    for (const word of literal.replace(/\\"/g, " ").split(/[\s<>="'`]+/)) {
      if (word) words.push(word);
    }
  }
  return words;
}

// Candidate class names in a template: its text without the mustache tags ({{x}}, {{#x}}, ...),
// which are names of values, not classes. "state-{{observed}}" leaves "state-", so classes put
// together from a value are in the safelist below.
function extractMustache(source) {
  return source.replace(/\{\{[^}]*\}\}\}?/g, " ").split(/[\s<>="'`]+/).filter(Boolean);
}

/** @type {import('tailwindcss').Config} */
module.exports = {
  content: {
    files: [
      path.join(__dirname, "templates/**/*.mustache"),
      path.join(__dirname, "../http/**/*.cpp"),
      path.join(__dirname, "static/*.js"),
    ],
    extract: { cpp: extractCpp, mustache: extractMustache },
  },
  // Classes whose names are put together at run time, so no source holds them whole:
  // templates/_vm_state.mustache writes "state-{{observed}}".
  safelist: ["state-running", "state-crashed", "state-failed", "state-unknown"],
  theme: {
    extend: {
      // The palette lives in styles/app.css (custom properties); these names let @apply and
      // utilities use it.
      colors: {
        ink: "var(--ink)",
        muted: "var(--muted)",
        line: "var(--line)",
        paper: "var(--paper)",
        wash: "var(--wash)",
        accent: "var(--accent)",
        "error-ink": "var(--error-ink)",
        "error-wash": "var(--error-wash)",
        "done-ink": "var(--done-ink)",
        "done-wash": "var(--done-wash)",
        "info-wash": "var(--info-wash)",
      },
    },
  },
  plugins: [],
};
