from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=1, hidden=False)
def test_q1_shape(env):
    from autograder.hidden import assert_check
    assert_check('q1.shape', env)

@test_case(points=1, hidden=False)
def test_q1_order(env):
    from autograder.hidden import assert_check
    assert_check('q1.order', env)

@test_case(points=1, hidden=False)
def test_q1_kwargs(env):
    from autograder.hidden import assert_check
    assert_check('q1.kwargs', env)

@test_case(points=1, hidden=True)
def test_q1_sequence(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q1.sequence', env)

@test_case(points=1, hidden=True)
def test_q1_shortcut(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q1.shortcut', env)

@test_case(points=2, hidden=True)
def test_q1_numeric(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q1.numeric', env)

