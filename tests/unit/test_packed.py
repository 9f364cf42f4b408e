"""The packed-token layout of the fast encoders (``modeling/packed.py``): packing keeps the real
tokens in reading order, padding them back restores the padded rows, and the read positions
land on the right packed rows and back in their [B, P] places."""

from __future__ import annotations

import torch

from biomedner.modeling.packed import pack, read_queries


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of 4, 2 (left-padded) and 3 real tokens; each token's vector is [row, column]."""
    mask = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1], [1, 1, 1, 0]])
    rows, cols = torch.meshgrid(torch.arange(3), torch.arange(4), indexing="ij")
    embedded = torch.stack([rows, cols], dim=-1).float()  # [3, 4, 2]
    return embedded, mask


def test_pack_keeps_the_real_tokens_in_order_and_pads_them_back():
    embedded, mask = _batch()
    packed, shape = pack(embedded, mask)
    expected = [[0, 0], [0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 0], [2, 1], [2, 2]]
    assert packed.tolist() == expected
    padded = shape.pad(packed).view(3, 4, 2)
    assert torch.equal(padded, embedded * mask[..., None])
    assert shape.key_mask.shape == (3, 1, 1, 4)
    assert shape.key_mask[:, 0, 0].tolist() == mask.bool().tolist()


def test_read_positions_find_their_packed_rows_and_unpack_in_place():
    embedded, mask = _batch()
    packed, shape = pack(embedded, mask)
    positions = torch.tensor([[3, 0, 0], [2, 3, 2], [1, 0, 0]])
    read = torch.tensor([[True, True, False], [True, True, True], [True, False, False]])
    queries = read_queries(shape, positions, read)
    # row 1 is left-padded: its positions 2 and 3 are its first and second real tokens
    assert packed.index_select(0, queries.rows).tolist() == [
        [0, 3],
        [0, 0],
        [1, 2],
        [1, 3],
        [1, 2],
        [2, 1],
    ]
    unpacked = queries.unpack(packed.index_select(0, queries.rows))
    expected = embedded.gather(1, positions[..., None].expand(-1, -1, 2)) * read[..., None]
    assert unpacked.shape == (3, 3, 2)
    assert torch.equal(unpacked, expected)


def test_heads_split_on_the_padded_layout_and_merge_back_to_packed_rows():
    embedded, mask = _batch()
    packed, shape = pack(embedded.repeat(1, 1, 3), mask)  # [9, 6]: 3 heads of width 2
    heads = shape.split_heads(packed, 3)
    assert heads.shape == (3, 3, 4, 2)
    assert torch.equal(heads[1, 2, 2], packed[4, 4:])  # row 1's first real token, head 2
    assert not bool(heads[1, :, :2].any())  # its left padding is zero
    assert torch.equal(shape.merge_heads(heads), packed)
    positions = torch.tensor([[3, 1], [2, 0], [0, 0]])
    read = torch.tensor([[True, True], [True, False], [True, False]])
    queries = read_queries(shape, positions, read)
    at_reads = shape.split_heads(packed.index_select(0, queries.rows), 3, queries)
    assert at_reads.shape == (3, 3, 2, 2)
    assert not bool(at_reads[1, :, 1].any())  # not read
    assert torch.equal(shape.merge_heads(at_reads, queries), packed.index_select(0, queries.rows))
