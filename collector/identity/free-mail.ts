import { createRequire } from 'node:module'

// email-providers (ISC) ships its list in the package: 8,760 free and disposable mail domains.
const FREE_MAIL = new Set<string>(createRequire(import.meta.url)('email-providers/all.json'))

/** Whether an email's domain is a free-mail provider's, which says nothing about the company. */
export const isFreeMailDomain = (domain: string) => FREE_MAIL.has(domain.toLowerCase())

const EMAIL = /^[^\s@]+@([^\s@]+\.[^\s@]+)$/

export const normalizeEmail = (value: unknown): string | undefined =>
  typeof value === 'string' && EMAIL.test(value.trim()) ? value.trim().toLowerCase() : undefined

export const emailDomain = (email: string) => email.slice(email.lastIndexOf('@') + 1)

/** The company domain an email points to, or undefined for free mail. */
export function businessDomain(email: string | null | undefined): string | undefined {
  if (!email) return
  const domain = emailDomain(email)
  return isFreeMailDomain(domain) ? undefined : domain
}
