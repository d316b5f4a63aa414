/** What a view gets: the report API for the chosen journey and range, and the dataset its download exports. */
export interface ViewContext {
  /** A report as JSON, with the journey and range chosen (and extra parameters). */
  get<T>(report: string, extra?: Record<string, string>): Promise<T>
  /** An export's path, with the journey and range chosen. */
  exportPath(dataset: string, format: string, extra?: Record<string, string>): string
  getText(path: string): Promise<string>
}
export type View = (context: ViewContext) => Promise<HTMLElement>
