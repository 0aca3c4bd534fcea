import pytest
import torch

from course_utils.rnn_bptt import tasks


def _images_from_rows(patterns, counts, seed=0):
    """Images (N, 1, H, W) whose rows are copies of the given row patterns, in the given proportions."""
    g = torch.Generator().manual_seed(seed)
    which = torch.cat([torch.full((c,), i) for i, c in enumerate(counts)])
    rows = patterns[which[torch.randperm(len(which), generator=g)]]
    return rows.view(-1, 1, 4, patterns.shape[1])


def test_codebook_recovers_distinct_rows_even_when_one_dominates():
    patterns = torch.eye(6)[:5] * torch.arange(1, 6)[:, None]  # 5 distinct rows of width 6
    images = _images_from_rows(patterns, [380, 5, 5, 5, 5])    # one row pattern makes 95 % of the rows
    codebook = tasks.fit_row_codebook(images, num_tokens=5, seed=0)
    assert codebook.shape == (5, 6)
    found = {tuple(row.tolist()) for row in codebook}
    assert found == {tuple(row.tolist()) for row in patterns}  # no prototype wasted on a duplicate
    tokens = tasks.rows_to_tokens(images, codebook)
    assert tokens.shape == (100, 4) and tokens.dtype == torch.int64
    assert torch.equal(tasks.tokens_to_images(tokens, codebook), images)  # exact round trip


def test_tokens_are_nearest_prototypes():
    g = torch.Generator().manual_seed(1)
    images = torch.rand(20, 1, 5, 7, generator=g)
    codebook = torch.rand(9, 7, generator=g)
    tokens = tasks.rows_to_tokens(images, codebook, chunk_size=13)  # chunking must not change the result
    rows = images[:, 0].reshape(-1, 7)
    brute = ((rows[:, None] - codebook[None]) ** 2).sum(-1).argmin(1).view(20, 5)
    assert torch.equal(tokens, brute)


def test_image_helpers_reject_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        tasks.fit_row_codebook(torch.rand(10, 28, 28))
    with pytest.raises(ValueError, match="num_tokens must be an int >= 2"):
        tasks.fit_row_codebook(torch.rand(10, 1, 4, 4), num_tokens=1)
    with pytest.raises(ValueError, match="too few for num_tokens=50 prototypes"):
        tasks.fit_row_codebook(torch.rand(2, 1, 4, 4), num_tokens=50)
    with pytest.raises(ValueError, match=r"codebook must be shaped \(num_tokens, 4\)"):
        tasks.rows_to_tokens(torch.rand(2, 1, 4, 4), torch.rand(3, 5))
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\]"):
        tasks.tokens_to_images(torch.tensor([[0, 3]]), torch.rand(3, 4))
    with pytest.raises(ValueError, match="int64 tensor"):
        tasks.tokens_to_images(torch.tensor([0.0, 1.0]), torch.rand(3, 4))


def test_recall_task_label_is_the_first_token():
    g = torch.Generator().manual_seed(0)
    X, y = tasks.recall_task(500, distance=9, vocab_size=5, generator=g)
    assert X.shape == (500, 10) and y.shape == (500,) and X.dtype == y.dtype == torch.int64
    assert torch.equal(y, X[:, 0]) and 0 <= X.min() and X.max() <= 4
    assert len(torch.unique(X[:, -1])) == 5                      # distractors use the whole vocabulary
    X0, y0 = tasks.recall_task(3, distance=0)
    assert X0.shape == (3, 1) and torch.equal(X0[:, 0], y0)
    a = tasks.recall_task(4, 3, generator=torch.Generator().manual_seed(7))[0]
    b = tasks.recall_task(4, 3, generator=torch.Generator().manual_seed(7))[0]
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="distance must be an int >= 0"):
        tasks.recall_task(4, -1)
    with pytest.raises(ValueError, match="vocab_size must be an int >= 2"):
        tasks.recall_task(4, 3, vocab_size=1)


def test_echo_stream_targets_lag_behind():
    X, Y = tasks.echo_stream(3, 50, lag=4, generator=torch.Generator().manual_seed(0))
    assert X.shape == Y.shape == (3, 50)
    assert torch.all(Y[:, :4] == tasks.IGNORE_INDEX)
    assert torch.equal(Y[:, 4:], X[:, :-4])
    with pytest.raises(ValueError, match="length must be an int larger than lag=4"):
        tasks.echo_stream(3, 4, lag=4)
    with pytest.raises(ValueError, match="lag must be an int >= 1"):
        tasks.echo_stream(3, 10, lag=0)


def test_adding_problem_marks_one_value_in_each_half():
    from course_utils.rnn_bptt.tasks import ADDING_BASELINE_MSE, adding_problem

    g = torch.Generator().manual_seed(0)
    X, y = adding_problem(5000, 50, generator=g)
    assert X.shape == (5000, 50, 2) and y.shape == (5000,) and X.dtype == torch.float32
    markers = X[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :25].sum(1) == 1) and torch.all(markers[:, 25:].sum(1) == 1)
    assert torch.allclose((X[..., 0] * markers).sum(1), y)
    assert 0 <= X[..., 0].min() and X[..., 0].max() <= 1
    # always answering 1.0 scores Var(u1 + u2) = 1/6: the number chapter 03 compares against
    assert abs(((y - 1.0) ** 2).mean().item() - ADDING_BASELINE_MSE) < 0.01
    X2, y2 = adding_problem(5000, 50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_adding_problem_bad_inputs():
    from course_utils.rnn_bptt.tasks import adding_problem

    with pytest.raises(ValueError, match="length must be an int >= 2"):
        adding_problem(10, 1)
    with pytest.raises(ValueError, match="num_sequences must be a positive int"):
        adding_problem(0, 10)


def test_tokens_stay_with_their_images_when_a_subset_is_taken():
    """Labels index images, so token row i must be image i: for any subset, in any order, across chunk borders."""
    g = torch.Generator().manual_seed(3)
    images = torch.rand(50, 1, 6, 5, generator=g)
    codebook = tasks.fit_row_codebook(images, num_tokens=16, seed=0)
    tokens = tasks.rows_to_tokens(images, codebook, chunk_size=7)  # 7 does not divide the 6 rows of an image
    subset = torch.randperm(50, generator=g)[:17]
    assert torch.equal(tasks.rows_to_tokens(images[subset], codebook, chunk_size=7), tokens[subset])
    assert torch.equal(tasks.tokens_to_images(tokens[subset], codebook), tasks.tokens_to_images(tokens, codebook)[subset])
    one = tasks.rows_to_tokens(images[11:12], codebook)
    assert torch.equal(one[0], tokens[11])


def test_explicit_arguments_are_used():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(40, 1, 4, 6, generator=g)
    a, b = (tasks.fit_row_codebook(images, num_tokens=8, seed=s) for s in (0, 1))
    assert not torch.equal(a, b)  # the seed picks the sample and the start
    assert torch.equal(a, tasks.fit_row_codebook(images, num_tokens=8, seed=0))
    few = tasks.fit_row_codebook(images, num_tokens=8, max_rows=8, num_iters=3)
    assert {tuple(r.tolist()) for r in few} <= {tuple(r.tolist()) for r in images[:, 0].reshape(-1, 6)}  # 8 rows, 8 tokens
    X, Y = tasks.echo_stream(4, 300, lag=2, vocab_size=3, generator=torch.Generator().manual_seed(0))
    assert set(X.unique().tolist()) == {0, 1, 2}
    X, y = tasks.recall_task(300, 4, vocab_size=3, generator=torch.Generator().manual_seed(0))
    assert set(X.unique().tolist()) == {0, 1, 2} and set(y.unique().tolist()) == {0, 1, 2}


def test_adding_markers_are_drawn_per_sequence():
    X, _ = tasks.adding_problem(400, 20, generator=torch.Generator().manual_seed(0))
    first, second = X[:, :10, 1].argmax(1), X[:, 10:, 1].argmax(1) + 10
    assert len(first.unique()) == 10 and len(second.unique()) == 10  # every position occurs, not one per batch
    assert len(X[:, :, 0].flatten().unique()) > 7000  # fresh values everywhere


def test_generated_tasks_draw_exactly_the_same_numbers():
    """Chapter 03's checkpoints were trained on these streams: the order of the random draws is frozen."""
    g = torch.Generator().manual_seed(5)
    values = torch.rand(6, 9, generator=g)
    first, second = torch.randint(0, 4, (6,), generator=g), torch.randint(4, 9, (6,), generator=g)
    X, y = tasks.adding_problem(6, 9, generator=torch.Generator().manual_seed(5))
    assert torch.equal(X[..., 0], values) and torch.equal(y, values[torch.arange(6), first] + values[torch.arange(6), second])
    assert torch.equal(X[..., 1].nonzero()[:, 1].view(6, 2), torch.stack([first, second], 1))
    X, y = tasks.recall_task(5, 7, generator=torch.Generator().manual_seed(5))
    assert torch.equal(X, torch.randint(0, 8, (5, 8), generator=torch.Generator().manual_seed(5)))
    X, _ = tasks.echo_stream(3, 10, lag=2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(X, torch.randint(0, 8, (3, 10), generator=torch.Generator().manual_seed(5)))
