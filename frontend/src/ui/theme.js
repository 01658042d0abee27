/** Light and dark theme: follows the system until the user picks one (kept in localStorage). */

const THEME_KEY = 'syncboard:theme';

/** Whether the dark theme is active. */
export function isDark() {
  return document.documentElement.dataset.theme === 'dark';
}

/** Apply the stored (or system) theme to the document. */
export function applyTheme() {
  const stored = localStorage.getItem(THEME_KEY);
  const dark = stored ? stored === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

/** Switch theme, remember the choice, and return whether it is now dark. */
export function toggleTheme() {
  const dark = !isDark();
  localStorage.setItem(THEME_KEY, dark ? 'dark' : 'light');
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  return dark;
}
