import { describe, expect, it } from 'vitest'
import { attribute, type Arrival } from '../../../collector/sessions/channel'

describe('Channel grouping', () => {
  it.each<[string, Arrival, string, string, string]>([
    // what arrived                                                      source         medium        channel
    ['nothing: typed or bookmarked', {}, '(direct)', '(none)', 'Direct'],
    ['a Google search', { referrer: 'https://www.google.com/' }, 'google', 'organic', 'Organic Search'],
    ['a Google search abroad', { referrer: 'https://www.google.co.uk/search?q=crm' }, 'google', 'organic', 'Organic Search'],
    ['Bing', { referrer: 'https://www.bing.com/search?q=x' }, 'bing', 'organic', 'Organic Search'],
    ['DuckDuckGo', { referrer: 'https://duckduckgo.com/' }, 'duckduckgo', 'organic', 'Organic Search'],
    ['a Google Ads click (auto-tagged)', { gclid: 'abc', referrer: 'https://www.google.com/' }, 'google', 'cpc', 'Paid Search'],
    ['a Microsoft Ads click', { msclkid: 'abc' }, 'bing', 'cpc', 'Paid Search'],
    ['a tagged paid search campaign', { utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'brand' }, 'google', 'cpc', 'Paid Search'],
    ['a LinkedIn post', { referrer: 'https://www.linkedin.com/feed/' }, 'linkedin', 'social', 'Organic Social'],
    ['a LinkedIn short link', { referrer: 'https://lnkd.in/abc' }, 'linkedin', 'social', 'Organic Social'],
    ['a tweet (t.co is X)', { referrer: 'https://t.co/xyz' }, 'x', 'social', 'Organic Social'],
    ['a Facebook link (fbclid alone is not an ad)', { fbclid: 'f', referrer: 'https://l.facebook.com/' }, 'facebook', 'social', 'Organic Social'],
    ['a LinkedIn ad (li_fat_id)', { liFatId: 'l' }, 'linkedin', 'cpc', 'Paid Social'],
    ['a tagged paid social campaign', { utmSource: 'linkedin', utmMedium: 'paid_social' }, 'linkedin', 'paid_social', 'Paid Social'],
    ['a Facebook ad tagged cpc', { utmSource: 'facebook', utmMedium: 'cpc', fbclid: 'f' }, 'facebook', 'cpc', 'Paid Social'],
    ['a newsletter', { utmSource: 'newsletter', utmMedium: 'email', utmCampaign: 'march' }, 'newsletter', 'email', 'Email'],
    ['an email tagged e-mail (merged into email)', { utmSource: 'hubspot', utmMedium: 'e-mail' }, 'hubspot', 'email', 'Email'],
    ['a webmail link', { referrer: 'https://mail.google.com/' }, 'gmail', 'email', 'Email'],
    ['a partner site', { referrer: 'https://partner.example/blog/post' }, 'partner.example', 'referral', 'Referral'],
    ['a display banner', { utmSource: 'dv360', utmMedium: 'display' }, 'dv360', 'display', 'Display'],
    ['a CPM buy', { utmSource: 'adroll', utmMedium: 'cpm' }, 'adroll', 'cpm', 'Display'],
    ['an affiliate', { utmSource: 'partnerstack', utmMedium: 'affiliate' }, 'partnerstack', 'affiliate', 'Affiliate'],
    ['a tagged social post', { utmSource: 'buffer', utmMedium: 'social' }, 'buffer', 'social', 'Organic Social'],
    ['UTM source alone, unknown', { utmSource: 'podcast' }, 'podcast', '(not set)', 'Other'],
    ['an unknown medium', { utmSource: 'event', utmMedium: 'booth' }, 'event', 'booth', 'Other'],
    ['UTM values in capitals', { utmSource: 'Google', utmMedium: 'CPC' }, 'google', 'cpc', 'Paid Search'],
    // Clean touch data: known aliases merged, hosts named as their referrer would be, blanks dropped.
    ['LinkedIn tagged by its short link', { utmSource: 'lnkd.in', utmMedium: 'Social' }, 'linkedin', 'social', 'Organic Social'],
    ['LinkedIn tagged by its host', { utmSource: 'www.LinkedIn.com', utmMedium: 'paid' }, 'linkedin', 'paid', 'Paid Social'],
    ['LinkedIn tagged li', { utmSource: 'li', utmMedium: 'social-media' }, 'linkedin', 'social', 'Organic Social'],
    ['X tagged twitter', { utmSource: 'Twitter', utmMedium: 'social' }, 'x', 'social', 'Organic Social'],
    ['X tagged t.co', { utmSource: 't.co' }, 'x', '(not set)', 'Organic Social'],
    ['a mail app tagged by its host', { utmSource: 'mail.google.com' }, 'gmail', '(not set)', 'Email'],
    ['a Proton Mail link', { referrer: 'https://mail.proton.me/u/0/inbox' }, 'proton_mail', 'email', 'Email'],
    ['blank UTM values are none', { utmSource: '  ', utmMedium: '' }, '(direct)', '(none)', 'Direct'],
  ])('%s', (_, arrival, source, medium, channel) => {
    expect(attribute(arrival)).toEqual({ source, medium, channel })
  })
})
