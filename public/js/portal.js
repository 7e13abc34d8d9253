// Starts the NHS design system's scripts (error summary focus, character count, password reveal, header
// menu). Browsers without JavaScript modules never run this file, and every page works without it.
import { initAll } from '/public/vendor/nhsuk/nhsuk-frontend.min.js'

// The design system's components start only on a page marked as able to run them.
document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
