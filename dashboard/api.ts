/** The read token lives in this tab's sessionStorage: never in a URL, gone when the tab closes. */
const TOKEN_KEY = 'waymark_read_token'

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
}

export class Unauthorized extends Error {}

async function request(path: string): Promise<Response> {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token.get()}` } })
  if (response.status === 401) throw new Unauthorized()
  if (!response.ok) throw new Error(((await response.json().catch(() => ({}))) as { error?: string }).error ?? `${response.status} ${response.statusText}`)
  return response
}

export const getJson = async <T>(path: string): Promise<T> => (await request(path)).json() as Promise<T>

export const getText = async (path: string): Promise<string> => (await request(path)).text()

/** Downloads an export with the token in its header (a plain link could not carry it). */
export async function download(path: string) {
  const response = await request(path)
  const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1] ?? 'export'
  const url = URL.createObjectURL(await response.blob())
  const link = Object.assign(document.createElement('a'), { href: url, download: name })
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
