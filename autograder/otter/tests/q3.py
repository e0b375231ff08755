from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_q3_output(env):
    from autograder.hidden import assert_check
    assert_check('q3.output', env)

@test_case(points=1, hidden=True)
def test_q3_no_skip(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q3.no_skip', env)

@test_case(points=2, hidden=True)
def test_q3_accuracy(env):
    from autograder.hidden import assert_hidden
    assert_hidden('q3.accuracy', env)

