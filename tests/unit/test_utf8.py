"""UTF-8 offsets and counts, against Python's own encoding of each character."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam.utf8 import char_span, char_to_byte, count_characters


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_char_to_byte_is_each_characters_utf8_width_summed(text):
    """The vectorized map from character to byte offsets (1- to 4-byte characters) against encoding each
    character on its own."""
    expected = [0]
    for c in text:
        expected.append(expected[-1] + len(c.encode("utf-8")))
    assert char_to_byte(text).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.one_of(st.characters(max_codepoint=127), st.characters()), max_size=60),
       repeat=st.sampled_from([1, 1, 20_000]))
def test_count_characters_counts_like_python_and_pyarrow(text, repeat):
    """The report's character count of a non-ASCII batch: Python's length, pyarrow's utf8_length, across the
    1 MB slices it is counted in (repeats of up to 4-byte characters straddle their boundaries)."""
    import pyarrow.compute as pc

    big = text * repeat
    raw = big.encode("utf-8", "surrogatepass")
    assert count_characters(raw) == len(big)
    if not any("\ud800" <= c <= "\udfff" for c in big):  # Arrow strings cannot hold lone surrogates
        assert count_characters(raw) == pc.utf8_length(pa.array([big], pa.large_string()))[0].as_py()


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40), data=st.data())
def test_char_span_inverts_char_to_byte(text, data):
    """A byte span on character boundaries maps back to the character span it came from."""
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    to_byte = char_to_byte(text)
    assert char_span(text, int(to_byte[a]), int(to_byte[b])) == (a, b)
