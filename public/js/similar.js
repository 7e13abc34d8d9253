// Suggests existing requests that look like the one being written, under the title field, while the
// title is typed. It is an extra: without it the same suggestions appear on the next page and on the
// check page. The container (data-similar-for names the field) is an aria-live region, so a screen
// reader hears when suggestions appear.
const box = document.querySelector('[data-similar-for]')
const field = box && document.getElementById(box.dataset.similarFor)

if (field) {
  let timer = 0
  let asked = 0 // the number of the latest question, so that a slow answer to an older one is dropped
  let shown = ''

  const show = (title, matches) => {
    box.replaceChildren()
    shown = title
    if (matches.length === 0) return
    const inset = document.createElement('div')
    inset.className = 'nhsuk-inset-text'
    const hidden = document.createElement('span')
    hidden.className = 'nhsuk-u-visually-hidden'
    hidden.textContent = 'Information: '
    const heading = document.createElement('h2')
    heading.className = 'nhsuk-heading-s'
    heading.textContent = matches.length === 1 ? 'A request that looks similar' : 'Requests that look similar'
    const intro = document.createElement('p')
    intro.textContent = 'If one of these asks for the same change, support it instead of raising a new request; if your organisation raised it, add to it there instead.'
    const list = document.createElement('ul')
    list.className = 'nhsuk-list'
    for (const m of matches) {
      const item = document.createElement('li')
      const link = document.createElement('a')
      link.href = m.href
      link.textContent = m.reference + ': ' + m.title
      const about = document.createElement('span')
      about.className = 'nhsuk-body-s'
      about.textContent = m.status + ', raised by ' + (m.yours ? 'your organisation' : m.organisation)
      item.append(link, document.createElement('br'), about)
      list.append(item)
    }
    inset.append(hidden, heading, intro, list)
    box.append(inset)
  }

  const ask = async () => {
    const title = field.value.trim()
    if (title === shown) return
    const n = ++asked
    if (title.length < 4) {
      show(title, [])
      return
    }
    try {
      const res = await fetch('/requests/similar?title=' + encodeURIComponent(title), {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      if (!res.ok) return
      const matches = await res.json()
      if (n === asked && Array.isArray(matches)) show(title, matches)
    } catch {
      // Offline or signed out: the suggestions still come on the next page.
    }
  }

  field.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(ask, 400)
  })
  if (field.value.trim() !== '') ask()
}
