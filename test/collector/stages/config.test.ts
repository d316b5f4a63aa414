import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG, parseConfig } from '../../../collector/stages/config'

describe('The journey configuration', () => {
  it('is the default B2B journey when it names no journeys', () => {
    expect(parseConfig('{}')).toEqual(DEFAULT_CONFIG)
  })

  it('takes comments and trailing commas', () => {
    const config = parseConfig(`{
      // one journey per product
      "sessionTimeoutMinutes": 45,
      "journeys": [{ "name": "p", "stages": [{ "name": "seen", "when": [{ "visit": true }] },] }],
    }`)
    expect(config.sessionTimeoutMinutes).toBe(45)
    expect(config.journeys[0].name).toBe('p')
  })

  it.each([
    ['broken JSON, with the line', '{\n  "journeys": [\n    {"name": "x",,}\n  ]\n}', /waymark\.config\.json:3:18: not valid JSON \(PropertyNameExpected\)/],
    ['an unknown key, with its line', '{\n  "jurneys": []\n}', /:2:3: at jurneys: expected one of "journeys", "sessionTimeoutMinutes"/],
    [
      'an unknown condition, with its line and path',
      '{"journeys": [{"name": "a", "stages": [\n {"name": "s", "when": [\n  {"paht": "/x"}]}]}]}',
      /:3:4: at journeys\[0\]\.stages\[0\]\.when\[0\]\.paht: expected a condition key, one of: visit, path/,
    ],
    ['a count that is not a number', '{"journeys": [{"name": "a", "stages": [{"name": "s", "when": [{"pageviews": "3"}]}]}]}', /pageviews: expected a number, 0 or more/],
    ['a stage without conditions', '{"journeys": [{"name": "a", "stages": [{"name": "s", "when": []}]}]}', /when: expected a list of conditions/],
    ['two stages of one name', '{"journeys": [{"name": "a", "stages": [{"name": "s", "when": [{"visit": true}]}, {"name": "s", "when": [{"visit": true}]}]}]}', /stages\[1\]\.name: expected a stage name not used before/],
    ['two journeys of one name', '{"journeys": [{"name": "a", "stages": [{"name": "s", "when": [{"visit": true}]}]}, {"name": "a", "stages": [{"name": "s", "when": [{"visit": true}]}]}]}', /journeys\[1\]\.name: expected a name not used by another journey/],
    ['a bad regular expression', '{"journeys": [{"name": "a", "stages": [{"name": "s", "when": [{"path": "regex:("}]}]}]}', /path: expected a valid regular expression/],
    ['a score rule on the person', '{"journeys": [{"name": "a", "stages": [{"name": "s", "when": [{"visit": true}]}], "score": [{"when": {"returning": true}, "points": 5}]}]}', /score\[0\]\.when\.returning: expected a condition on the session/],
  ])('names %s', (_, text, message) => {
    expect(() => parseConfig(text)).toThrow(message)
  })
})
