from procure.cli.app import main

main()
