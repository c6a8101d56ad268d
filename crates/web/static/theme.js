// Applies the theme chosen in Settings (this browser) before the page paints.
try {
  const theme = localStorage.getItem("natter.theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // Storage may be off; the system's theme applies.
}
