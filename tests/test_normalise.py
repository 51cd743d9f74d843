from bot.normalise import GAP, MAX_CHARS, phrase_key, prepare, tokenize


def words(text):
    return list(tokenize(text).words)


def test_slack_markup_keeps_labels_and_drops_ids():
    w = words("<@U123ABC> see <https://x.example/r|the report> in <#C0123|ai-risk> <!channel> <!subteam^S1|@team>")
    assert "u123abc" not in w and "channel" not in w and "subteam" not in w
    assert w[:3] == ["see", "the", "report"]
    assert "risk" in w


def test_discord_markup_emoji_and_mass_mentions_are_dropped():
    w = words("<@!4242> <@&77> <:blobcat:1234> :fire: @everyone @here the model <t:1700000000:R> lies")
    assert w == ["the", "model", "lies"]


def test_code_blocks_are_removed_but_inline_words_stay():
    w = words("before ```rm -rf / hallucinate``` after `model`")
    assert w == ["before", "after", "model"]


def test_unicode_nfkc_casefold_and_zero_width():
    t = tokenize("ＡＩ Hal\u200bluci\u200dnates STRAẞE don\u2019t")
    assert t.words == ("ai", "hallucinates", "strasse", "don't")


def test_stems_join_inflections():
    a, b = tokenize("hallucinated").stems, tokenize("hallucinations").stems
    assert a == b


def test_clauses_split_on_sentence_and_but():
    t = tokenize("it is not bad. it works, but it fails")
    assert t.clauses[t.words.index("not")] != t.clauses[t.words.index("works")]
    assert t.clauses[t.words.index("works")] != t.clauses[t.words.index("fails")]


def test_span_shows_the_original_words():
    t = tokenize("The Red-Teaming plan")
    assert t.span(1, 3) == "red-teaming"


def test_phrase_key_gap_and_empty():
    assert phrase_key("bypass ... guardrails") == (tokenize("bypass").stems[0], GAP, tokenize("guardrails").stems[0])
    assert phrase_key("... ---") == ()


def test_prepare_guards():
    assert prepare("").rejected == "empty"
    assert prepare("   \n\t ").rejected == "empty"
    assert prepare(b"\x00\x01\x02\x03\x04\x05\x06\x07\xff\xfe binary").rejected == "binary"
    ok = prepare(b"valid text with one bad byte \xff here")
    assert ok.rejected == "" and "\ufffd" in ok.text
    big = prepare("model " * 200_000)
    assert len(big.text) == MAX_CHARS and "1,200,000" in big.notices[0]
