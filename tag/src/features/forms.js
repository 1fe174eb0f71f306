// Optional: form submissions (data-forms). Only the form's name or id
// attribute is sent, never a field value. getAttribute is used because
// form.name / form.id return a field when one is named "name" or "id".
// A form marked data-tt-lead sends lead: true (the stage rules count it as a lead).
import { event } from '../capture.js'
import { d, on } from '../util.js'

export function forms() {
  on(d, 'submit', (e) => {
    const f = e.target
    event('form_submit', { form: f.getAttribute('name') || f.getAttribute('id') || '', lead: f.hasAttribute('data-tt-lead') || void 0 })
  })
}
