// Tailwind (v3) for Strato's pages: ui/ui.cmake runs the CLI on styles/app.css with this file.
// The pages are C++ (http/**/*.cpp) whose class names live in string literals; passkeys.js and
// any other script in static/ may add classes too.
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

/** @type {import('tailwindcss').Config} */
module.exports = {
  content: {
    files: [path.join(__dirname, "../http/**/*.cpp"), path.join(__dirname, "static/*.js")],
    extract: { cpp: extractCpp },
  },
  // Classes whose names are put together at run time, so no source holds them whole:
  // http/pages/page_vms.cpp writes "state-" + the observed state.
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
