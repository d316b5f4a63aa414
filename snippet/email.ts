export const isEmail = (value: unknown): value is string => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value as string)
