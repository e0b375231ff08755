from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_q2_output(env):
    from autograder.hidden import assert_check
    assert_check('q2.output', env)

@test_case(points=1, hidden=False)
def test_q2_params(env):
    from autograder.hidden import assert_check
    assert_check('q2.params', env)

@test_case(points=2, hidden=True)
def test_q2_blocks(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q2.blocks', env)

@test_case(points=2, hidden=True)
def test_q2_accuracy(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q2.accuracy', env)

