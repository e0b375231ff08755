from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_q3_output(env):
    from autograder.public.notebook import assert_check
    assert_check('q3.output', env)

