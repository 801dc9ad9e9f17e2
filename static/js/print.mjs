// "Print this page" on the placement agreement. Without JavaScript the button stays
// hidden and the page tells people to use the browser's own print command.
for (const button of document.querySelectorAll("[data-app-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
