// GOV.UK Frontend's components, started on every page. Loaded as a module, so browsers
// too old for the components never reach this code and keep the no-JavaScript page.
import { initAll } from "../govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
